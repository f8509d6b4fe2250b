//! What every operation of both APIs may answer besides its own outcomes,
//! added to both generated OpenAPI documents in one place, so that no
//! handler can forget one: 401 where a session is required, the body's
//! 400/408/413/415/422, 400 for a malformed query and 400/404 for a path
//! parameter. Each is the JSON error body; an operation that documents a
//! status itself keeps its own description.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, OpenApi, Ref, ResponseBuilder};

/// The modifier both documents list.
pub(crate) struct StandardAnswers;

impl utoipa::Modify for StandardAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                add_standard_answers(op);
            }
        }
    }
}

/// What an operation's shape implies it may answer.
fn add_standard_answers(op: &mut Operation) {
    let secured = op
        .security
        .as_ref()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|r| *r != Default::default()));
    let body_types: Vec<String> = op
        .request_body
        .iter()
        .flat_map(|b| b.content.keys().cloned())
        .collect();
    let params = op.parameters.iter().flatten();
    let (mut in_path, mut in_query) = (false, false);
    for p in params {
        match p.parameter_in {
            ParameterIn::Path => in_path = true,
            ParameterIn::Query => in_query = true,
            _ => {}
        }
    }
    let mut answers: Vec<(&str, &str)> = Vec::new();
    if secured {
        answers.push(("401", "`unauthenticated`: no valid session or token"));
    }
    if body_types.iter().any(|t| t.contains("json")) {
        answers.extend([
            ("400", "`malformed_json`"),
            ("408", "`request_timeout`: the body did not arrive in time"),
            ("413", "`payload_too_large`"),
            ("415", "`unsupported_media_type`: not `application/json`"),
            (
                "422",
                "`invalid_body`: not an object, an unknown field, a wrong type",
            ),
        ]);
    }
    if body_types.iter().any(|t| t.starts_with("multipart/")) {
        answers.extend([
            (
                "400",
                "`malformed_multipart`: cut short or not multipart inside",
            ),
            ("408", "`request_timeout`: the body did not arrive in time"),
            ("413", "the upload is larger than allowed"),
            (
                "415",
                "`unsupported_media_type`: not multipart/form-data with a boundary",
            ),
        ]);
    }
    if in_query {
        answers.push(("400", "`invalid_query`: a repeated or malformed parameter"));
    }
    if in_path {
        answers.extend([("400", "a malformed path parameter"), ("404", "not found")]);
    }
    for (status, description) in answers {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_answer(description).into());
    }
}

/// An answer with the JSON error body.
fn error_answer(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build()
}
