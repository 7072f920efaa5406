//! The reference data an administrator edits: countries, missions, ports, purposes, cost
//! bearers, districts and registration attachment types. Each list is described once by a
//! [`Spec`] (its fields, how each is entered and checked); entries are added, edited, retired
//! and restored. A retired entry stays on old records and is no longer offered by the forms.

use super::audit::ObjectType;

/// How a column is edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Free text, required unless the field says otherwise.
    Text,
    /// One of fixed (value, label) choices.
    Choice(&'static [(&'static str, &'static str)]),
    /// A country (alpha-3) from the countries list.
    Country,
    /// A yes/no checkbox stored as 0/1.
    Check,
    /// The sort number (BIGINT); empty means "at the end".
    Sort,
}

/// Extra rule on a text column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    None,
    /// Exactly `n` uppercase ASCII letters.
    Upper(usize),
    /// A lowercase code: a letter, then letters, digits or `_`, 32 at most.
    Code,
    /// A visa category as printed on visas: an uppercase letter, then uppercase letters or
    /// digits (M, F, X1, J2).
    VisaCode,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Column and form field name.
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub rule: Rule,
    pub required: bool,
    pub max: usize,
    /// Unique within the list.
    pub unique: bool,
    /// The key of a list keyed by text: entered when adding, fixed afterwards (old records refer
    /// to it).
    pub key: bool,
    pub hint: &'static str,
}

const fn text(name: &'static str, label: &'static str, max: usize) -> Field {
    Field {
        name,
        label,
        input: Input::Text,
        rule: Rule::None,
        required: true,
        max,
        unique: false,
        key: false,
        hint: "",
    }
}

const fn sort() -> Field {
    Field {
        input: Input::Sort,
        required: false,
        hint: "数字小的排在前面；不填则排在最后",
        ..text("sort", "排序号", 9)
    }
}

pub const MISSION_KINDS: &[(&str, &str)] = &[
    ("embassy", "大使馆"),
    ("consulate_general", "总领事馆"),
    ("consulate", "领事馆"),
    ("office", "办事处"),
];

pub const PORT_KINDS: &[(&str, &str)] = &[
    ("air", "航空"),
    ("sea", "水运"),
    ("rail", "铁路"),
    ("land", "公路"),
];

/// The lists an administrator edits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefList {
    Countries,
    Missions,
    Ports,
    Purposes,
    CostBearers,
    /// 拟申请签证种类 (issue 16).
    VisaTypes,
    Districts,
    /// Registration attachment types.
    AttachmentTypes,
}

/// One list the administrator edits.
#[derive(Debug)]
pub struct Spec {
    pub list: RefList,
    /// Path segment: `/admin/refdata/{slug}`.
    pub slug: &'static str,
    pub label: &'static str,
    /// Audit object type.
    pub object_type: ObjectType,
    /// The kind of the code lists (part of their audit object id).
    pub code_kind: Option<&'static str>,
    /// The columns; an entry is keyed by the field marked `key`, or by a generated id.
    pub fields: &'static [Field],
    /// The field that names an entry (in messages and the audit log).
    pub name_field: &'static str,
    pub note: &'static str,
}

impl Spec {
    /// Whether the list is shown and offered in pinyin order of its names (`crate::collate`)
    /// rather than by sort number: countries, missions and ports, long lists found by name.
    pub fn pinyin_order(&self) -> bool {
        matches!(
            self.list,
            RefList::Countries | RefList::Missions | RefList::Ports
        )
    }
    /// The field that keys an entry, entered when adding; `None` for lists keyed by a
    /// generated id.
    pub fn key_field(&self) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.key)
    }
    /// Whether an entry's template file is managed on 样式模板管理 (attachment types).
    pub fn has_templates(&self) -> bool {
        self.list == RefList::AttachmentTypes
    }
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// The audit object id of an entry.
    pub fn object_id(&self, key: &str) -> String {
        match self.code_kind {
            Some(k) => format!("{k}:{key}"),
            None => key.to_string(),
        }
    }
}

pub const SPECS: &[Spec] = &[
    Spec {
        list: RefList::Countries,
        slug: "countries",
        label: "国家和地区",
        object_type: ObjectType::Country,
        code_kind: None,
        fields: &[
            Field {
                rule: Rule::Upper(3),
                unique: true,
                key: true,
                hint: "ISO 3166-1 三位字母代码，如USA；新增后不能修改",
                ..text("alpha3", "三位字母代码", 3)
            },
            Field {
                rule: Rule::Upper(2),
                unique: true,
                hint: "ISO 3166-1 两位字母代码，如US",
                ..text("alpha2", "两位字母代码", 2)
            },
            Field {
                unique: true,
                ..text("name_zh", "中文名称", 50)
            },
            text("name_en", "英文名称", 100),
        ],
        name_field: "name_zh",
        note: "按中文名称的汉语拼音排序。国家和地区用于外宾国籍和签证申办国家（地区）；中国香港、中国澳门、中国台湾不作为外宾国籍。停用后不再供选择，其使领馆也不再供选择；已申报的团组仍显示原名称。",
    },
    Spec {
        list: RefList::Missions,
        slug: "missions",
        label: "驻外使领馆",
        object_type: ObjectType::Mission,
        code_kind: None,
        fields: &[
            Field {
                input: Input::Country,
                ..text("host_alpha3", "所在国家（地区）", 3)
            },
            Field {
                input: Input::Choice(MISSION_KINDS),
                ..text("kind", "类别", 32)
            },
            Field {
                unique: true,
                hint: "如“中国驻纽约总领事馆”",
                ..text("name_zh", "名称", 50)
            },
            Field {
                required: false,
                ..text("city_zh", "所在城市", 50)
            },
        ],
        name_field: "name_zh",
        note: "按名称的汉语拼音排序（申报时按所在国家（地区）排列，大使馆在前）。团组申报时选择的签证申办使领馆（含外交部驻香港、澳门特别行政区特派员公署）。",
    },
    Spec {
        list: RefList::Ports,
        slug: "ports",
        label: "入出境口岸",
        object_type: ObjectType::Port,
        code_kind: None,
        fields: &[
            Field {
                unique: true,
                ..text("name_zh", "名称", 50)
            },
            Field {
                input: Input::Choice(PORT_KINDS),
                ..text("kind", "类别", 32)
            },
            text("province_zh", "所在省份", 20),
        ],
        name_field: "name_zh",
        note: "按名称的汉语拼音排序（销签登记时按航空、水运、铁路、公路分组）。销签登记时选择的实际入境、出境口岸。",
    },
    Spec {
        list: RefList::Purposes,
        slug: "purposes",
        label: "来华事由",
        object_type: ObjectType::Code,
        code_kind: Some("purpose"),
        fields: &[
            Field {
                rule: Rule::Code,
                unique: true,
                key: true,
                hint: "小写英文字母、数字或下划线，如business；新增后不能修改",
                ..text("code", "代码", 32)
            },
            Field {
                unique: true,
                ..text("name_zh", "名称", 50)
            },
            sort(),
        ],
        name_field: "name_zh",
        note: "团组申报时选择的来华事由。",
    },
    Spec {
        list: RefList::CostBearers,
        slug: "cost_bearers",
        label: "费用承担",
        object_type: ObjectType::Code,
        code_kind: Some("cost_bearer"),
        fields: &[
            Field {
                rule: Rule::Code,
                unique: true,
                key: true,
                hint: "小写英文字母、数字或下划线，如inviting_unit；新增后不能修改",
                ..text("code", "代码", 32)
            },
            Field {
                unique: true,
                ..text("name_zh", "名称", 50)
            },
            sort(),
        ],
        name_field: "name_zh",
        note: "团组申报时选择的费用承担方式。",
    },
    Spec {
        list: RefList::VisaTypes,
        slug: "visa_types",
        label: "拟申请签证种类",
        object_type: ObjectType::Code,
        code_kind: Some("visa_type"),
        fields: &[
            Field {
                rule: Rule::VisaCode,
                unique: true,
                key: true,
                hint: "签证种类字母，如M、F、X1；新增后不能修改",
                ..text("code", "代码", 4)
            },
            Field {
                unique: true,
                ..text("name_zh", "名称", 50)
            },
            sort(),
        ],
        name_field: "name_zh",
        note: "到访人员的拟申请签证种类，申报表中显示为“M（商贸）”。未选择时按来华事由默认：商务类为M，交流访问类为F。",
    },
    Spec {
        list: RefList::Districts,
        slug: "districts",
        label: "县区",
        object_type: ObjectType::District,
        code_kind: None,
        fields: &[
            Field {
                unique: true,
                ..text("name", "名称", 20)
            },
            sort(),
        ],
        name_field: "name",
        note: "邀请单位注册和县区外办帐号所属的县区。尚有邀请单位的县区不能停用。",
    },
    Spec {
        list: RefList::AttachmentTypes,
        slug: "attachment_types",
        label: "注册附件类型",
        object_type: ObjectType::AttachmentType,
        code_kind: None,
        fields: &[
            Field {
                unique: true,
                ..text("name", "名称", 100)
            },
            Field {
                input: Input::Check,
                required: false,
                ..text("required", "必须上传", 1)
            },
            sort(),
        ],
        name_field: "name",
        note: "邀请单位注册时上传的附件。样式模板文件在“样式模板管理”中上传或更换。",
    },
];

pub fn spec(slug: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.slug == slug)
}
