//! Idempotent seeding of settings, reference data, templates, notices and the first accounts.

use crate::db::Db;
use crate::domain::audit::ObjectType;
use crate::domain::settings::Setting;
use crate::domain::texts::Text;
use crate::files::FileStore;
use crate::security::{hash_password, random_password};
use crate::store::reference::{self, setting, setting_default};
use crate::store::users::{self, NewUser, Role};

/// Names shown in the header and messages.
#[derive(Clone, Debug)]
pub struct Site {
    pub city_name: String,
    pub office_name: String,
    pub office_phone: String,
    pub system_name: String,
}

pub struct Seeded {
    pub secret: Vec<u8>,
    /// Lines to print at start-up (first administrator, demo accounts).
    pub notes: Vec<String>,
}

/// Reads the site's names and phone from the settings.
pub async fn load_site(pool: &sqlx::AnyPool) -> Result<Site, sqlx::Error> {
    let mut values = reference::settings(
        pool,
        &[
            Setting::CityName,
            Setting::OfficeName,
            Setting::OfficePhone,
            Setting::SystemName,
        ],
    )
    .await?;
    let mut take = |key: Setting| values.remove(&key).unwrap_or_default();
    Ok(Site {
        city_name: take(Setting::CityName),
        office_name: take(Setting::OfficeName),
        office_phone: take(Setting::OfficePhone),
        system_name: take(Setting::SystemName),
    })
}

/// Changzhou's districts, the reference deployment.
pub const DISTRICTS: &[(&str, &str)] = &[
    ("天宁区", "tianning"),
    ("钟楼区", "zhonglou"),
    ("新北区", "xinbei"),
    ("武进区", "wujin"),
    ("金坛区", "jintan"),
    ("溧阳市", "liyang"),
    ("常州经济开发区", "jingkai"),
];

/// Password of every demo account (created only with `--demo`).
pub const DEMO_PASSWORD: &str = "Demo@2026";

struct TypeSeed {
    code: &'static str,
    name: &'static str,
    required: bool,
    template: &'static str,
    lines: &'static [&'static str],
}

/// Registration attachment types, after the Changzhou office's published guide.
const UNIT_TYPES: &[TypeSeed] = &[
    TypeSeed {
        code: "unit_filing",
        name: "《邀请函》申办单位备案表",
        required: true,
        template: "《邀请函》申办单位备案表.rtf",
        lines: &[
            "《邀请函》申办单位备案表",
            "",
            "单位全称：",
            "单位英文名称：",
            "统一社会信用代码：",
            "所属县区：",
            "单位地址：",
            "单位类型：",
            "法定代表人：",
            "专办员姓名：            身份证号码：",
            "专办员手机：            联系电话：",
            "电子邮箱：",
            "",
            "本单位承诺：所提交的材料真实、有效，专办员负责本单位邀请外国人来华的申办工作，",
            "并对被邀请人在华期间的活动负责。",
            "",
            "法定代表人（签字）：",
            "单位（盖章）：",
            "日期：      年    月    日",
        ],
    },
    TypeSeed {
        code: "clerk_id",
        name: "专办员身份证正反面扫描件",
        required: true,
        template: "专办员身份证正反面扫描件（样式）.rtf",
        lines: &[
            "专办员身份证正反面扫描件",
            "",
            "请将专办员居民身份证的正面（人像面）和反面（国徽面）复印在同一页，",
            "加盖单位公章后扫描为PDF上传。",
            "",
            "【身份证正面】",
            "",
            "",
            "【身份证反面】",
            "",
            "",
            "单位（盖章）：",
        ],
    },
    TypeSeed {
        code: "credit_proof",
        name: "公司信用公示证明",
        required: true,
        template: "公司信用公示证明（样式）.rtf",
        lines: &[
            "公司信用公示证明",
            "",
            "请在国家企业信用信息公示系统查询本单位的信用信息，",
            "打印查询结果页（含统一社会信用代码、登记状态），加盖单位公章后扫描为PDF上传。",
            "",
            "单位（盖章）：",
        ],
    },
    TypeSeed {
        code: "business_license",
        name: "营业执照副本",
        required: true,
        template: "营业执照副本（样式）.rtf",
        lines: &[
            "营业执照副本",
            "",
            "请复印营业执照副本（事业单位为事业单位法人证书，社会团体为社会团体法人登记证书），",
            "加盖单位公章后扫描为PDF上传。",
            "",
            "单位（盖章）：",
        ],
    },
    TypeSeed {
        code: "other",
        name: "其他材料",
        required: false,
        template: "其他材料说明.rtf",
        lines: &[
            "其他材料",
            "",
            "如有其他需要说明的材料（如授权委托书），请加盖单位公章后扫描为PDF上传。",
        ],
    },
];

pub const REGISTRATION_NOTICE: &str = "\
一、邀请单位使用本系统前须自行注册。注册信息应真实、准确、完整，并与营业执照等证照一致。
二、登录ID由字母、数字或中文组成，建议使用单位名称；密码须为8至64位，并包含大写字母、小写字母、数字、符号中的至少三类。
三、注册时须验证专办员的手机号码。审核结果、退回补充等通知将通过短信和站内信发送到该号码。
四、须上传的附件均为加盖单位公章的PDF扫描件，每个文件不超过10MB。可通过【样式模板】下载模板，填写后盖章扫描上传。
五、注册提交后，由属地县区外办初审，初审通过后由市外办审核。审核通过前无数据申报功能。
六、如两级外办在审核过程中需要补充或更新信息，会以短信和站内信通知，请登录后按要求补充材料，重新提交。
七、被列入失信企业名单的单位将无法登录，请联系市外办处理。
八、本系统仅用于邀请外国人来华的申办，请妥善保管帐号和密码，因帐号保管不善造成的后果由邀请单位承担。";

/// The help page for the unit clerk (Markdown; `{office_contact}` becomes the office and its phone).
pub const HELP: &str = r#"本页面向邀请单位的专办员，按办理顺序说明本系统的每一步。遇到本页没有说明的问题，{office_contact}。

## 一、注册（首次使用）

1. 在登录页点【用户注册】。
2. **阅读注册须知**：页面显示10秒倒计时，倒计时结束后“我已阅读以上须知”按钮才能点击。
3. **验证手机号码**：填写专办员本人的手机号码，点[获取验证码]；收到短信后填写6位验证码，点[第一步：校验短信验证码]。验证码5分钟内有效，输错5次作废；同一号码60秒内只能获取一次，每天最多10次。
4. **补充机构信息**：单位全称须与营业执照一致；统一社会信用代码为18位，系统会核对校验位；所属县区请选择单位的属地，由该县区外办初审。填好后点[继续设置账号、密码]。
5. **填写注册账号信息**：登录ID可用字母、数字或中文（2至32个字符），建议使用单位名称；密码8至64位，须包含大写字母、小写字母、数字、符号中的至少三类。点“继续”后帐号即建立，并自动登录。
6. **添加附件**：每个附件旁都有【样式模板】，下载后填写、加盖单位公章、扫描为PDF上传（每个不超过10MB）。标为“必选”的附件都上传后，点[提交注册]。
7. 提交后先由属地县区外办初审，再由市外办审核。审核通过会有短信通知，之后即可申请《邀请函》。

如果中途离开，已建立帐号的单位可以用登录ID和密码登录，在“用户注册信息”中继续上传附件并提交。

## 二、审核未通过怎么办

审核人员退回时会写明原因，系统同时发送短信和站内信。请登录后打开“用户注册信息”，查看“退回原因”，点“修改注册信息”改正、在“添加附件”中重新上传需要更换的材料，最后再次点[提交注册]，申请会重新交给属地县区外办初审。

审核通过前，申报功能处于锁定状态，只能查看和修改注册信息。

## 三、登录、忘记密码与帐号安全

- **登录**：输入登录ID和密码。连续输错5次，帐号会锁定15分钟。
- **帐号状态异常**：被列入失信企业名单的单位无法登录，请联系市外办处理。
- **忘记密码**：在登录页点“忘记密码”，输入统一社会信用代码和单位全称；核对一致后，系统向注册时登记的手机发送验证码；校验通过后设置新密码。如果登记的手机已无法接收短信，请联系市外办，由工作人员更换绑定手机或重置密码。
- **[修改密码]**：在“用户信息”中点[修改密码]，输入原密码和两次新密码。
- **修改绑定的手机号码**：输入新的手机号码并获取验证码，验证码发送到新号码，填写后点[绑定]。
- **修改注册信息**：审核通过后如单位信息有变化（如更名、地址变更），在“用户注册信息”中修改并【提交】，变更同样经县区外办和市外办审核；审核通过前，原注册信息继续有效。
- **注销**：点页面右上角的“注销”退出，回到登录页。离开电脑时请注销。

## 四、消息提醒

页面右上角的“新消息N”显示未读消息数，点击可查看全部消息。有新消息时，屏幕右下角会弹出最新的一条：

- [关闭]：暂时关闭提醒，消息仍为未读；
- [我知道了]：关闭提醒，并把消息标记为已读；
- [查看详细]：打开消息全文，并标记为已读；
- [删除]：删除这条消息。

未读的消息每10分钟提醒一次，直到标记为已读或删除。

## 五、来华申报（审核通过后）

1. 点功能菜单中的“来华申报”，阅读邀请外国人来华须知后确认继续。
2. **团组资料**：填写团组名称、来华事由、计划入境和出境日期、访问地点、费用承担方等。使领馆须选择外宾实际办理签证的那一个：先选国家，再选具体的使领馆。例如外宾在纽约总领事馆办理签证，就必须选择“中国驻纽约总领事馆”，不能选“中国驻美国大使馆”，否则外宾办理签证时无法核验邀请函。
3. **入境次数**：一般为一次入境（3个月有效）。半年多次或一年多次须符合条件——在苏投资企业的法定代表人，或提供上一年度出入境中国5次（半年多次）或10次（一年多次）及以上的出入境记录页——并上传证明材料。
4. **到访人员**：标*的为必填项。外国人姓名无法区分姓和名时，将全名填入“名”，“姓”留空；国籍须从列表中选择。每个团组最多5人，超过5人请另建团组。
5. 填写完成后点【保存】，再点【打印】生成《邀请外国人来华申请表》，由单位盖章、负责人签字后扫描上传。
6. 点【保存】后会出现【提交】。提交后团组不能再修改，系统通知县区外办初审，再由市外办审核受理。保存后如又修改了内容，须重新打印并上传盖章扫描件后才能提交。

## 六、申报历史查询与退件

“申报历史查询”列出本单位一段时间内申报的团组及办理进度：

- 有“受理编号”，表示市外办已审核受理；
- 有“核实单号”，表示市外办已上报外交部；
- 已发件的团组可以下载邀请函，并显示“销签登记”。

团组被退件时，状态列显示“退件”和原因。请按要求修改，重新打印、上传后再次提交。

## 七、销签登记

只有市外办已发件的团组才能销签登记。外宾实际来访并出境后，点[未登记]，填写实际入境、出境的日期和口岸，上传出入境章及签证页的扫描件；如果行程取消，填写取消原因并上传情况说明（PDF）。登记完成后点[提交]，由县区外办和市外办审核。请在外宾出境（或行程取消）后30天内完成登记。

## 八、模板下载

功能菜单中的“模板下载”列出所有附件的样式模板。
"#;

/// The invitation notice the unit confirms before a group (Markdown).
pub const INVITATION_NOTICE: &str = "\
1. 邀请单位应对被邀请外国人的身份、来华事由和在华活动负责，确保所填信息真实、准确，并与护照信息一致。
2. 使领馆必须填写到外宾实际办理签证的使领馆。例如外宾在纽约总领事馆办理签证，必须选择“中国驻纽约总领事馆”，不能选择“中国驻美国大使馆”或其他领馆，否则外宾办理签证时无法核验邀请函，会被拒签。
3. 入境次数一般为一次入境（3个月有效）。申请半年多次须为在苏投资企业的法定代表人，或提供上一年度出入境中国5次及以上的出入境记录页；申请一年多次须为在苏投资企业的法定代表人，或提供上一年度出入境中国10次及以上的出入境记录页。
4. 每个团组最多邀请5人，超过5人请另建团组。外国人姓名无法区分姓氏和名字时，请将姓名填入“名”，“姓”留空；国籍须从列表中选择。
5. 填写完成后点【保存】，再点【打印】生成《邀请外国人来华申请表》，由单位盖章、负责人签字后扫描上传，然后【提交】。提交后团组不能修改。
6. 请至少在计划入境日期前30天提交申请，并确保护照有效期在计划出境日期后6个月以上。
7. 外宾来访结束（或取消行程）后30天内，须在系统中办理销签登记。";

/// 个人信息处理规则 (Markdown): what the unit accepts at registration and tells its visitors
/// before their data is entered (PIPL Art. 17, 30: sensitive personal information).
pub const PERSONAL_INFO_RULES: &str = "\
本系统由市人民政府外事办公室（以下简称市外办）运行，用于办理邀请外国人来华申请。邀请单位通过本系统填报来访人员的个人信息前，须将本规则告知来访人员并取得其同意；填报团组时须确认已告知。

## 处理哪些个人信息

来访人员的姓名、性别、出生日期、国籍、护照号码及有效期、工作单位及其所在国家（地区）、城市和地址、职务、拟申请签证种类、停留期限、在华日程，以及护照、签证和出入境记录的扫描件。其中护照号码、出生日期和证件扫描件属于敏感个人信息。

## 为什么处理、如何处理

仅用于审核邀请外国人来华申请、向外交部报送核实、出具邀请函，以及来访结束后的销签登记和统计。县区外办和市外办工作人员按职责查阅，邀请单位只能查看本单位的团组。每一次查看、下载、导出和打印都记录查看人、时间和来访人员，市外办可随时核查。

## 如何保护

护照号码、出生日期、工作单位地址和全部扫描件以国家商用密码算法（SM4）加密存储，护照号码检索使用密钥杂凑（HMAC-SM3），审计日志以带密钥的校验链防止篡改。系统不向本规则所述以外的任何单位或个人提供来访人员的个人信息。

## 保存多久

团组最后一名来访人员的销签登记办结或邀请取消后，个人信息和扫描件在系统设置的保存期限（默认3年）届满时自动删除，仅保留国籍、性别、人数、日期等统计数据。

## 来访人员的权利

来访人员可以通过邀请单位查阅、更正其个人信息，或要求在法定情形下删除；对处理方式有疑问的，可以向市外办咨询。";

/// A minimal RTF document (opens in Word, WPS and LibreOffice) with the given lines.
pub fn rtf(lines: &[&str]) -> Vec<u8> {
    let mut out = String::from(
        "{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 SimSun;}}\\f0\\fs24\n",
    );
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            out.push_str("\\qc\\b\\fs32 ");
        }
        for c in line.chars() {
            match c {
                '\\' | '{' | '}' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_ascii() => out.push(c),
                c => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{}?", *unit as i16));
                    }
                }
            }
        }
        if i == 0 {
            out.push_str("\\b0\\fs24\\par\\ql\n");
        } else {
            out.push_str("\\par\n");
        }
    }
    out.push('}');
    out.into_bytes()
}

pub async fn seed(db: &Db, files: &FileStore, now: i64, demo: bool) -> anyhow::Result<Seeded> {
    let pool = &db.pool;
    let mut notes = Vec::new();
    {
        let mut tx = db.begin().await?;
        let c = tx.conn();
        setting_default(c, Setting::Secret, &hex::encode(rand::random::<[u8; 32]>())).await?;
        setting_default(c, Setting::CityName, "常州市").await?;
        setting_default(c, Setting::OfficeName, "常州市人民政府外事办公室").await?;
        setting_default(c, Setting::OfficePhone, "").await?;
        setting_default(c, Setting::SystemName, "常州市邀请外国人来华信息系统").await?;
        setting_default(c, Setting::ProcessingDays, "5").await?;
        setting_default(c, Setting::Holidays, "").await?;
        setting_default(c, Setting::OverdueDays, "30").await?;
        setting_default(c, Setting::OverdueWarnDays, "0").await?;
        setting_default(c, Setting::OverdueBlocksApplications, "0").await?;
        setting_default(
            c,
            Setting::PersonalDataRetentionYears,
            &crate::domain::access_log::DEFAULT_PERSONAL_DATA_YEARS.to_string(),
        )
        .await?;
        setting_default(
            c,
            Setting::AccessLogRetentionDays,
            &crate::domain::access_log::DEFAULT_RETENTION_DAYS.to_string(),
        )
        .await?;
        setting_default(
            c,
            Setting::SecondFactorRoles,
            crate::domain::second_factor::DEFAULT_ROLES,
        )
        .await?;
        crate::store::refs::seed(c, now).await?;
        reference::text_default(c, Text::InvitationNotice, INVITATION_NOTICE, now).await?;
        for (i, (name, _)) in DISTRICTS.iter().enumerate() {
            reference::district_default(c, name, i as i64).await?;
        }
        reference::text_default(c, Text::RegistrationNotice, REGISTRATION_NOTICE, now).await?;
        reference::text_default(c, Text::Help, HELP, now).await?;
        reference::text_default(c, Text::PersonalInfoRules, PERSONAL_INFO_RULES, now).await?;
        for (i, t) in UNIT_TYPES.iter().enumerate() {
            if reference::attachment_type_exists(c, t.code).await? {
                continue;
            }
            let bytes = rtf(t.lines);
            let sha = crate::workflow::files::put_in_transaction(c, files, &bytes).await?;
            let file_id = reference::insert_file(
                c,
                &sha,
                bytes.len() as i64,
                "application/rtf",
                t.template,
                None,
                now,
            )
            .await?;
            reference::insert_attachment_type(
                c,
                &reference::NewAttachmentType {
                    code: t.code,
                    name: t.name,
                    required: t.required,
                    sort: i as i64,
                    template_name: t.template,
                    template_file_id: file_id,
                },
            )
            .await?;
        }
        tx.commit().await?;
    }

    if users::count_admins(pool).await? == 0 {
        let password = random_password();
        if create_staff(
            db,
            Role::Admin,
            "admin",
            None,
            "系统管理员",
            &password,
            true,
            now,
        )
        .await?
        {
            notes.push(format!(
                "首个管理员 / first administrator: 登录ID admin, 密码 / password {password} (须在首次登录时修改 / change it at first sign-in)"
            ));
        }
    }
    if demo {
        let mut created = Vec::new();
        for (name, login) in DISTRICTS {
            let district = reference::district_by_name(pool, name).await?;
            if create_staff(
                db,
                Role::County,
                login,
                district,
                &format!("{name}外办"),
                DEMO_PASSWORD,
                false,
                now,
            )
            .await?
            {
                created.push(format!("{login}（{name}县区外办）"));
            }
        }
        if create_staff(
            db,
            Role::City,
            "city",
            None,
            "市外办",
            DEMO_PASSWORD,
            false,
            now,
        )
        .await?
        {
            created.push("city（市外办）".into());
        }
        if create_staff(
            db,
            Role::Admin,
            "demoadmin",
            None,
            "演示管理员",
            DEMO_PASSWORD,
            false,
            now,
        )
        .await?
        {
            created.push("demoadmin（系统管理员）".into());
        }
        if !created.is_empty() {
            notes.push(format!(
                "演示帐号 / demo accounts (密码 / password {DEMO_PASSWORD}): {}",
                created.join(", ")
            ));
        }
    }

    let mut seeded = existing(db).await?;
    seeded.notes = notes;
    Ok(seeded)
}

/// What a database seeded before holds, read without writing (a start on a full disk).
pub async fn existing(db: &Db) -> anyhow::Result<Seeded> {
    let secret_hex = setting(&db.pool, Setting::Secret)
        .await?
        .unwrap_or_default();
    let secret = hex::decode(secret_hex).unwrap_or_default();
    anyhow::ensure!(secret.len() >= 16, "server secret missing in settings");
    Ok(Seeded {
        secret,
        notes: Vec::new(),
    })
}

/// Creates a staff account unless the login ID exists. Returns whether it was created.
#[allow(clippy::too_many_arguments)]
pub async fn create_staff(
    db: &Db,
    role: Role,
    login: &str,
    district_id: Option<i64>,
    name: &str,
    password: &str,
    must_change: bool,
    now: i64,
) -> anyhow::Result<bool> {
    let login_id = crate::domain::LoginId::parse(login).map_err(|e| anyhow::anyhow!("{e}"))?;
    if users::login_key_taken(&db.pool, &login_id.key()).await? {
        return Ok(false);
    }
    let hash = hash_password(password)?;
    let mut tx = db.begin().await?;
    let id = users::insert(
        tx.conn(),
        &NewUser {
            role,
            login_id: login_id.as_str(),
            login_key: &login_id.key(),
            password_hash: &hash,
            display_name: name,
            unit_id: None,
            district_id,
            must_change_password: must_change,
        },
        now,
    )
    .await?;
    crate::store::audit::write(
        tx.conn(),
        &crate::store::Actor::system(),
        now,
        "staff.create",
        ObjectType::User,
        &id.to_string(),
        &format!("{} {}", role.as_str(), login_id.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtf_escapes_chinese_as_unicode() {
        let out = String::from_utf8_lossy(&rtf(&["注册{x}"])).to_string();
        assert!(out.starts_with("{\\rtf1"));
        assert!(out.contains("\\u27880?"), "{out}"); // 注 = U+6CE8 = 27880
        assert!(out.contains("\\{x\\}"));
    }
}
