//! A filled-in form with every field at its longest plausible: for the admin page's test print,
//! the benchmark and the tests.

use super::form::{FormData, GroupInfo, ItineraryInfo, UnitInfo, VisitorInfo};

/// A form of 5 visitors with long Chinese and Latin values.
pub fn sample_form() -> FormData {
    let visitor =
        |seq: u32, surname: &str, given: &str, sex: &str, nat: &str, passport: &str| VisitorInfo {
            seq,
            surname: surname.to_string(),
            given_name: given.to_string(),
            sex: sex.to_string(),
            birth_date: format!("19{}-0{}-1{}", 70 + seq, seq, seq),
            nationality: nat.to_string(),
            passport_no: passport.to_string(),
            passport_expiry: format!("203{seq}-12-31"),
            employer: "Internationale Gesellschaft für Zusammenarbeit und Entwicklung GmbH \
                       (Regionalbüro Asien-Pazifik)"
                .to_string(),
            position: "Senior Vice President, International Business Development".to_string(),
            visa_type: "M（商贸）".to_string(),
            stay_days: "90".to_string(),
            employer_country: "德意志联邦共和国".to_string(),
            employer_city: "Stuttgart-Bad Cannstatt".to_string(),
            employer_address: "Friedrich-Ebert-Allee 36 + 40, Haus B, 3. Obergeschoss, \
                               D-53113 Bonn / Regionalbüro Stuttgart, Königstraße 1A"
                .to_string(),
        };
    let stop = |seq: u32, date: &str, city: &str, activity: &str| ItineraryInfo {
        seq,
        date: date.to_string(),
        city: city.to_string(),
        activity: activity.to_string(),
        host: "常州市武进区国家高新技术产业开发区智能装备与新材料产业发展促进中心有限公司"
            .to_string(),
    };
    FormData {
        group_number: "20260007".to_string(),
        data_hash: "3f5a9c0e12b47d68a1c2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192".to_string(),
        printed_at: "2026-11-27 10:00".to_string(),
        office_name: "常州市人民政府外事办公室".to_string(),
        unit: UnitInfo {
            name: "常州市武进区国家高新技术产业开发区智能装备与新材料产业发展促进中心有限公司"
                .to_string(),
            english_name: "Changzhou Wujin National High-Tech Industrial Development Zone \
                           Intelligent Equipment and New Materials Industry Promotion Center \
                           Co., Ltd."
                .to_string(),
            credit_code: "91320412MA1XYZ8K3Q".to_string(),
            address: "江苏省常州市武进区常武中路801号常州科教城创研港3号楼A座1208室（邮编213164）"
                .to_string(),
            contact_name: "欧阳晓明".to_string(),
            contact_phone: "0519-86339999 / 13812345678".to_string(),
            district: "武进区".to_string(),
        },
        group: GroupInfo {
            name: "德国巴登-符腾堡州经济促进署智能制造与工业4.0合作交流考察团".to_string(),
            purpose: "洽谈智能制造装备联合研发项目合作协议，参观考察常州科教城及武进国家高新区\
                      重点企业，出席中德（常州）创新产业园合作交流会并签署合作备忘录"
                .to_string(),
            arrival: "2026-12-08".to_string(),
            departure: "2026-12-15".to_string(),
            places: "常州市武进区、新北区、天宁区、钟楼区、金坛区、溧阳市；南京市江宁区；\
                     苏州工业园区；上海市浦东新区张江高科技园区"
                .to_string(),
            cost_bearer: "邀请单位承担在华期间食宿及交通费用，国际旅费自理".to_string(),
            country: "德意志联邦共和国".to_string(),
            mission: "中华人民共和国驻法兰克福总领事馆".to_string(),
            entry_type: "多次".to_string(),
            entry_ground: "项目周期内需多次往返，双方已签订为期三年的技术合作框架协议（合同编号\
                           CZWJ-2026-DE-0815）"
                .to_string(),
            contact_name: "Maximilian Schneider-Hoffmann".to_string(),
            contact_phone: "+49 711 123456789".to_string(),
            remarks: "1. 团组成员中2人曾于2025年来访。\n2. 请使领馆加急办理，谢谢！\n\
                      3. 随行翻译由邀请单位安排，行程如有变动将及时报告。"
                .to_string(),
            size: "12".to_string(),
        },
        itinerary: vec![
            stop(
                1,
                "2026-12-08",
                "上海市",
                "抵达上海浦东国际机场，转乘高铁前往常州，入住酒店",
            ),
            stop(
                2,
                "2026-12-09",
                "常州市",
                "参观常州科教城及武进国家高新区重点企业，洽谈智能制造装备联合研发项目合作协议",
            ),
            stop(
                3,
                "2026-12-10",
                "常州市",
                "出席中德（常州）创新产业园合作交流会并签署合作备忘录",
            ),
            stop(4, "2026-12-11", "南京市", "考察江宁开发区智能制造企业"),
            stop(
                5,
                "2026-12-12",
                "苏州市",
                "考察苏州工业园区，与园区管委会座谈",
            ),
            stop(
                6,
                "2026-12-14",
                "上海市",
                "参观张江高科技园区，洽谈后续合作",
            ),
            stop(7, "2026-12-15", "上海市", "经上海浦东国际机场出境"),
        ],
        visitors: vec![
            visitor(
                1,
                "Schneider-Hoffmann",
                "Maximilian Alexander Friedrich",
                "男",
                "德国",
                "C01X00T47",
            ),
            visitor(2, "Müller", "Anna-Lena", "女", "德国", "C4F9G7H2K"),
            visitor(
                3,
                "van der Berg-Oosterhuis",
                "Johannes Cornelis Wilhelmus",
                "男",
                "荷兰",
                "NXR4K8P12",
            ),
            visitor(
                4,
                "García Fernández de Córdoba",
                "María de los Ángeles",
                "女",
                "西班牙",
                "PAF123456",
            ),
            visitor(
                5,
                "Wolfeschlegelsteinhausenbergerdorff",
                "Hubert Blaine",
                "男",
                "美利坚合众国",
                "A12345678",
            ),
        ],
    }
}
