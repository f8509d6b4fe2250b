//! The documents the registry tests file: a tiny PNG and PDF, valid
//! resident ID numbers, and complete application forms of an individual
//! and of an institution.

use serde_json::{Value, json};

/// A real (tiny) PNG and PDF.
pub(crate) fn png() -> Vec<u8> {
    crate::works::png()
}

pub(crate) fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// A valid resident ID number from its first 17 digits.
pub(crate) fn resident_id(body17: &str) -> String {
    crate::identity::id_number(body17)
}

/// A complete individual application whose documents are `ids`.
pub(super) fn individual_form(ids: &[i64]) -> Value {
    json!({
        "applicant": {"kind": "individual", "individual": {
            "name": "张三", "id_type": "resident_id", "id_number": resident_id("11010519491231002"),
            "id_address": "北京市海淀区中关村大街1号", "mailing_address": "北京市海淀区中关村大街1号",
            "id_scan": ids[0],
        }},
        "registered_place": {"district_code": "110108", "address": "北京市海淀区中关村大街1号"},
        "responsible": {
            "name": "张三", "office_phone": "010-62345678", "id_type": "resident_id",
            "id_number": resident_id("11010519491231002"), "mobile": "13912345678",
            "email": "zhang@example.cn", "id_scan": ids[0],
        },
        "declaration": {"agreed": true, "signed_scan": ids[1]},
        "services": [{
            "name": "张三的区块链浏览器", "website_name": "链上查", "url_or_client": "https://explorer.example.cn",
            "description": "为公众提供区块、交易与地址查询。", "has_management_mechanism": true,
            "service_type": {"category": "application", "kind": "explorer", "explorer": {
                "url": "https://explorer.example.cn", "annual_visits": 100000, "average_daily_visits": 2000,
                "server_ip": "203.0.113.7", "server_location": "北京市",
            }},
            "main_chain": "长安链 ChainMaker",
        }],
    })
}

/// A complete institution application with two services whose documents
/// are `ids`.
pub(crate) fn institution_form(ids: &[i64]) -> Value {
    json!({
        "applicant": {"kind": "institution", "institution": {
            "name": "深圳某某链科技有限公司", "credit_code": "91440300708461136T",
            "registered_address": "深圳市南山区科技园", "mailing_address": "深圳市南山区科技园",
            "licence_scan": ids[0],
        }},
        "registered_place": {"district_code": "440305", "address": "深圳市南山区科技园"},
        "website": "https://chain.example.cn",
        "responsible": {
            "name": "李四", "office_phone": "0755-86001234", "id_type": "hk_macau_permit",
            "id_number": "H12345678", "mobile": "13712345678", "email": "li@example.cn", "id_scan": ids[0],
        },
        "declaration": {"agreed": true, "signed_scan": ids[1]},
        "services": [
            {
                "name": "区块链即服务平台", "website_name": "某某云链", "url_or_client": "https://baas.example.cn",
                "description": "面向企业的区块链即服务。", "has_management_mechanism": true,
                "pre_approvals": [{"item": "增值电信业务经营许可", "certificate": ids[1]}],
                "service_type": {"category": "technology", "kind": "baas", "baas": {
                    "service_count": 12, "service_objects": "企业", "hardware_software_separated": true,
                    "cloud_qualification": "云服务能力评估", "machine_room_location": "广东省深圳市",
                }},
                "main_chain": "FISCO BCOS",
            },
            {
                "name": "开源联盟链", "website_name": "某某链", "url_or_client": "某某链客户端",
                "description": "开源联盟链底层。", "has_management_mechanism": false,
                "service_type": {"category": "technology", "kind": "other", "technology_other": {
                    "services": "底层链", "count": 1, "open_source": true,
                    "source_code_url": "https://code.example.cn/chain", "white_paper": ids[1],
                }},
                "main_chain": "other", "main_chain_other": "某某链",
            },
        ],
    })
}
