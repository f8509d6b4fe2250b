//! The API contract: every rejection is the JSON error body with a stable
//! code, bodies are objects, documented ranges are enforced, and the
//! OpenAPI documents are valid where tools rely on it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shucang_types::Role;

use crate::harness::{TestApp, assert_error};
use crate::registry::Reg;

#[tokio::test]
async fn bad_or_repeated_query_parameters_get_the_json_error_body() {
    let app = TestApp::spawn().await;
    let staff = app.staff("13900000001", Role::Reviewer).await;
    for (path, code) in [
        ("/api/v1/admin/works?limit=-1", "invalid_query"),
        ("/api/v1/admin/works?limit=1&limit=2", "invalid_query"),
        ("/api/v1/admin/works?limit=0", "invalid_number"),
        ("/api/v1/admin/works?limit=201", "invalid_number"),
        ("/api/v1/admin/works?limit=2147483648", "invalid_number"),
        ("/api/v1/chain/blocks?limit=1&limit=2", "invalid_query"),
        (
            "/api/v1/chain/consistency?from=1&from=2&to=3",
            "invalid_query",
        ),
        ("/api/v1/chain/blocks?limit=%zz", "invalid_number"),
        // Past int64, as the document says.
        (
            "/api/v1/chain/blocks?before=9223372036854775808",
            "invalid_number",
        ),
    ] {
        let body = assert_error(
            app.get(path, Some(&staff)).await,
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
        assert!(
            !body["error"]["message"].as_str().unwrap().is_empty(),
            "{path}"
        );
    }
    let res = app.get("/api/v1/admin/works?limit=200", Some(&staff)).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A page answers with a page, in its language.
    let res = app.get("/explorer/search?q=1&q=2", None).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<html lang=\"zh-CN\"") && page.contains("参数有误"),
        "{page}"
    );
    app.stop().await;

    let reg = Reg::spawn(None).await;
    let res = reg.get("/api/v1/public/filings?q=a&q=b", None).await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    let res = reg
        .http
        .get(format!("{}/?q=a&q=b", reg.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("参数有误"));
    reg.stop().await;
}

#[tokio::test]
async fn a_body_must_be_an_object_not_an_array_filled_by_position() {
    let app = TestApp::spawn().await;
    app.register("13800138000", "Shucang#2026").await;
    for body in [
        json!(["13800138000", "Shucang#2026"]),
        json!("x"),
        json!(7),
        json!(null),
    ] {
        let res = app.post_json("/api/v1/sessions", &body).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    }
    // Still malformed JSON is a 400, and an object works.
    let res = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body("[1,")
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    let res = app.login("13800138000", "Shucang#2026").await;
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;

    let reg = Reg::spawn(None).await;
    let token = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    // Nor anywhere inside: a part of the form is an object too (the fuzzer
    // found `technology_other: [null, null]` filled by position).
    for body in [
        json!([]),
        json!({"applicant": []}),
        json!({"applicant": {"individual": ["张三"]}}),
        json!({"services": [[]]}),
        json!({"services": [{"service_type": {"technology_other": [null, null]}}]}),
        json!({"services": [{"pre_approvals": [["item", 1]]}]}),
    ] {
        let res = reg.post("/api/v1/applications", Some(&token), &body).await;
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    }
    let mine = reg.get("/api/v1/applications", Some(&token)).await;
    let mine: Value = mine.json().await.unwrap();
    assert_eq!(
        mine.as_array().map(Vec::len),
        Some(0),
        "no draft made: {mine}"
    );
    reg.stop().await;
}

/// Each way an upload to the registry can fail has its own code; a
/// truncated body is malformed input (400), not a file too large.
#[tokio::test]
async fn every_way_an_upload_fails_has_its_own_code() {
    let reg = Reg::spawn(None).await;
    let token = reg.filer("张三", "13912345678", "zhang@example.cn").await;
    let res = reg
        .post("/api/v1/applications", Some(&token), &json!({}))
        .await;
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let url = format!("{}/api/v1/applications/{id}/attachments", reg.base);
    let send = |content_type: &'static str, body: &'static str| {
        reg.http
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let truncated = "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\u{89}PNG";
    for (content_type, body, status, code) in [
        (
            "multipart/form-data",
            "",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "application/json",
            "{}",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "multipart/form-data; boundary=XYZ",
            truncated,
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
        ),
        (
            "multipart/form-data; boundary=XYZ",
            "not multipart",
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
        ),
        (
            "multipart/form-data; boundary=XYZ",
            "--XYZ--\r\n",
            StatusCode::BAD_REQUEST,
            "invalid_upload",
        ),
    ] {
        assert_error(send(content_type, body).await.unwrap(), status, code).await;
    }
    let app = reg
        .get(&format!("/api/v1/applications/{id}"), Some(&token))
        .await;
    let app: Value = app.json().await.unwrap();
    assert_eq!(app["attachments"], json!([]), "nothing stored");
    reg.stop().await;
}

/// Fields whose content is free-form JSON by design: an audit step's
/// detail differs by action (reasons, numbers issued, a change's dates).
const FREE_FORM: &[&str] = &["AuditStep.detail"];

/// Asserts that `schema` names every field of every object in it (no bare
/// `{"type":"object"}`) and, with `closed`, that each object refuses
/// fields it does not name (`additionalProperties: false`), as the server
/// does.
fn assert_described(
    doc: &Value,
    schema: &Value,
    closed: bool,
    at: &str,
    seen: &mut std::collections::BTreeSet<String>,
) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        if seen.insert(name.to_owned()) {
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "{at}: {r} is not in the document");
            assert_described(doc, target, closed, name, seen);
        }
        return;
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for s in schema[key].as_array().into_iter().flatten() {
            assert_described(doc, s, closed, at, seen);
        }
    }
    if let Some(items) = schema.get("items") {
        assert_described(doc, items, closed, &format!("{at}[]"), seen);
    }
    let ty = &schema["type"];
    let object = ty == "object" || ty.as_array().is_some_and(|t| t.contains(&json!("object")));
    if !object || FREE_FORM.contains(&at) {
        return;
    }
    let properties = schema["properties"].as_object();
    assert!(
        properties.is_some_and(|p| !p.is_empty()),
        "{at}: an object whose fields the document does not name: {schema}"
    );
    if closed {
        assert_eq!(
            schema["additionalProperties"],
            json!(false),
            "{at}: the server refuses unknown fields; the document must say so"
        );
    }
    for (name, p) in properties.into_iter().flatten() {
        assert_described(doc, p, closed, &format!("{at}.{name}"), seen);
    }
}

/// What both documents must say of every operation: 401 where a session
/// is required, the body's failures, a malformed query; path parameters
/// in the path and query parameters in the query; every security scheme
/// is used.
fn assert_standard_answers(doc: &Value, what: &str) {
    let mut used_schemes = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let answers = op["responses"].as_object().unwrap();
            for (status, answer) in answers {
                if status.starts_with('2') && status != "204" {
                    let typed = answer["content"].as_object().is_some_and(|c| !c.is_empty());
                    assert!(
                        typed,
                        "{what}: {method} {path} {status} has no content type"
                    );
                }
                if let Some(json) = answer["content"].get("application/json") {
                    let at = format!("{what}: {method} {path} {status}");
                    assert_described(doc, &json["schema"], false, &at, &mut Default::default());
                }
            }
            if let Some(json) = op["requestBody"]["content"].get("application/json") {
                let at = format!("{what}: {method} {path} request");
                assert_described(doc, &json["schema"], true, &at, &mut Default::default());
            }
            let has = |status: &str| answers.contains_key(status);
            let secured = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            });
            for requirement in op["security"].as_array().into_iter().flatten() {
                used_schemes.extend(requirement.as_object().unwrap().keys().cloned());
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                let (name, declared) = (p["name"].as_str().unwrap(), &p["in"]);
                // What the server parses itself is described exactly.
                if ["hash", "address", "collection"].contains(&name) {
                    assert!(p["schema"]["pattern"].is_string(), "{what}: {path} {name}");
                }
                if ["limit", "offset", "before", "from", "to", "token_id"].contains(&name) {
                    assert!(p["schema"]["maximum"].is_number(), "{what}: {path} {name}");
                }
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    declared == "path",
                    in_path,
                    "{what}: {method} {path}: {name} is declared in {declared}"
                );
            }
            let body = op["requestBody"]["content"].as_object();
            let json_body = body.is_some_and(|c| c.keys().any(|k| k.contains("json")));
            let query = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["in"] == "query");
            let needs: Vec<&str> = [
                (secured, vec!["401"]),
                (json_body, vec!["400", "413", "415", "422"]),
                (query, vec!["400"]),
            ]
            .into_iter()
            .filter(|(applies, _)| *applies)
            .flat_map(|(_, statuses)| statuses)
            .collect();
            for status in needs {
                assert!(
                    has(status),
                    "{what}: {method} {path} does not document {status}"
                );
            }
        }
    }
    let schemes: std::collections::BTreeSet<String> = doc["components"]["securitySchemes"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(
        schemes, used_schemes,
        "{what}: every security scheme is used"
    );
}

#[tokio::test]
async fn both_documents_list_every_standard_answer() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert_standard_answers(&doc, "platform");
    let schemas = &doc["components"]["schemas"];
    let category = &schemas["ComplaintRequest"]["properties"]["category"]["enum"];
    assert_eq!(category.as_array().map(Vec::len), Some(5), "{category}");
    let phone = &schemas["RegisterRequest"]["properties"]["phone"]["pattern"];
    assert!(phone.is_string(), "{phone}");
    // Ranges as enforced, enums as answered.
    let field = |schema: &str, name: &str| schemas[schema]["properties"][name].clone();
    assert_eq!(field("OrderRequest", "quantity")["maximum"], json!(100));
    assert_eq!(field("DropRequest", "per_user_limit")["minimum"], json!(1));
    assert_eq!(
        field("DropRequest", "starts_at")["format"],
        json!("date-time")
    );
    let status = field("DropView", "status");
    assert_eq!(status["enum"].as_array().map(Vec::len), Some(4), "{status}");
    assert!(status["description"].is_string(), "the description stays");
    let text = doc.to_string();
    assert!(
        text.contains("no valid session or token"),
        "added where missing"
    );
    app.stop().await;
    let reg = Reg::spawn(None).await;
    let doc: Value = reg
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert_standard_answers(&doc, "registry");
    let schemas = &doc["components"]["schemas"];
    let form = &schemas["ApplicationForm"];
    assert_eq!(form["additionalProperties"], json!(false), "{form}");
    assert!(form["properties"]["services"].is_object(), "{form}");
    let state = &schemas["AppState"]["enum"];
    assert_eq!(state.as_array().map(Vec::len), Some(10), "{state}");
    let date = &schemas["CancellationBody"]["properties"]["termination_date"]["format"];
    assert_eq!(date, &json!("date"));
    assert!(
        doc["paths"]["/healthz"]["get"].is_object(),
        "the registry's /healthz"
    );
    reg.stop().await;
}
