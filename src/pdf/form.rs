//! What the application form prints, and why a print can fail.

/// Everything printed on the form. Values are printed as given (trimmed); empty ones leave the
/// cell blank.
#[derive(Debug, Clone, Default)]
pub struct FormData {
    /// e.g. "20260007".
    pub group_number: String,
    /// Hex SHA-256 of this version of the data; its first 16 digits are printed and put in the QR.
    pub data_hash: String,
    /// e.g. "2026-11-27 10:00" (Beijing time).
    pub printed_at: String,
    /// e.g. 常州市人民政府外事办公室.
    pub office_name: String,
    pub unit: UnitInfo,
    pub group: GroupInfo,
    /// 1 to 5 visitors (the table always has 5 rows; more is an error).
    pub visitors: Vec<VisitorInfo>,
    /// 在华日程, in date order (continued on further pages when long).
    pub itinerary: Vec<ItineraryInfo>,
}

/// The applying unit's declaration, printed the same on the PDF and the HTML form.
pub const DECLARATION: &str = "本单位承诺所填信息及提交材料真实、有效，被邀请人来华目的与申请事由一致。\
本单位将对被邀请人在华期间的活动负责，督促其遵守中国法律法规、尊重当地风俗习惯、按期出境，\
并在其离境（或取消行程）后按规定办理销签登记。如有虚假或违反上述承诺，本单位愿承担由此产生的一切法律责任。";

/// One row of 五、在华日程.
#[derive(Debug, Clone, Default)]
pub struct ItineraryInfo {
    pub seq: u32,
    pub date: String,
    pub city: String,
    pub activity: String,
    pub host: String,
}

/// 一、邀请单位.
#[derive(Debug, Clone, Default)]
pub struct UnitInfo {
    pub name: String,
    pub english_name: String,
    pub credit_code: String,
    pub address: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub district: String,
}

/// 二、团组信息.
#[derive(Debug, Clone, Default)]
pub struct GroupInfo {
    pub name: String,
    pub purpose: String,
    pub arrival: String,
    pub departure: String,
    pub places: String,
    pub cost_bearer: String,
    pub country: String,
    pub mission: String,
    pub entry_type: String,
    pub entry_ground: String,
    pub contact_name: String,
    pub contact_phone: String,
    /// May contain line breaks.
    pub remarks: String,
    /// 团组人数 (blank for a group saved before it was asked).
    pub size: String,
}

/// One row of 三、到访人员.
#[derive(Debug, Clone, Default)]
pub struct VisitorInfo {
    pub seq: u32,
    pub surname: String,
    pub given_name: String,
    pub sex: String,
    pub birth_date: String,
    pub nationality: String,
    pub passport_no: String,
    pub passport_expiry: String,
    pub employer: String,
    pub position: String,
    /// e.g. M（商贸）.
    pub visa_type: String,
    pub stay_days: String,
    pub employer_country: String,
    pub employer_city: String,
    pub employer_address: String,
}

/// Why no PDF was made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// No font with Chinese glyphs was found; see `Printer::missing_font_help`.
    #[error("未找到可用的中文字体，无法生成 PDF")]
    NoFont,
    /// The form has room for 5 visitors.
    #[error("到访人员最多 {max} 人，本团组有 {0} 人", max = MAX_VISITORS)]
    TooManyVisitors(usize),
    /// The QR payload could not be encoded (far too long).
    #[error("二维码生成失败：{0}")]
    Qr(String),
    /// krilla could not write the PDF.
    #[error("PDF 生成失败：{0}")]
    Pdf(String),
}

/// Rows of the visitor table.
pub const MAX_VISITORS: usize = 5;
