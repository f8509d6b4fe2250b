//! What every operation of both APIs may answer besides its own outcomes,
//! added to both generated OpenAPI documents in one place, so that no
//! handler can forget one: 401 where a session is required, the body's
//! 400/408/413/415/422, 400 for a malformed query and 400/404 for a path
//! parameter. Each is the JSON error body; an operation that documents a
//! status itself keeps its own description.
//!
//! Parameters keep one name for one thing across the API (`hash`,
//! `address`, `collection`, `limit`…); [`PARAMETERS`] gives each name the
//! exact schema the server enforces, so that a generated request that
//! fits the document is one the server accepts.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{Content, OpenApi, Ref, Required, ResponseBuilder};

/// What a parameter may be.
enum Shape {
    /// A string matching this pattern.
    Pattern(&'static str),
    /// An integer in this range.
    Range(i64, i64),
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A string in this format (RFC 3339 date-time and so on).
    Format(KnownFormat),
}

/// The schema of each parameter the server parses itself: (name, where,
/// the operations' path prefix it applies to, shape, required). The first
/// matching row wins.
const PARAMETERS: &[(&str, ParameterIn, &str, Shape, bool)] = {
    use ParameterIn::{Header, Path, Query};
    use Shape::{OneOf, Pattern, Range};
    const HASH: &str = "^(0x)?[0-9a-fA-F]{64}$";
    &[
        (
            "id",
            Path,
            "/api/v1/chain/blocks/",
            Pattern("^([0-9]{1,18}|[0-9a-fA-F]{64})$"),
            true,
        ),
        ("id", Path, "/", Range(1, i64::MAX), true),
        ("hash", Path, "/", Pattern(HASH), true),
        ("address", Path, "/", Pattern("^0x[0-9a-fA-F]{40}$"), true),
        ("collection", Path, "/", Pattern("^[a-z0-9_-]{1,64}$"), true),
        ("token_id", Path, "/", Range(0, i64::MAX), true),
        ("limit", Query, "/api/v1/admin/works", Range(1, 200), false),
        ("limit", Query, "/api/v1/chain/blocks", Range(1, 100), false),
        ("limit", Query, "/api/v1/chain/", Range(1, 10_000), false),
        ("limit", Query, "/api/v1/audit/", Range(1, 200), false),
        ("offset", Query, "/", Range(0, i64::MAX), false),
        ("before", Query, "/", Range(0, i64::MAX), false),
        ("from", Query, "/", Range(1, i64::MAX), true),
        ("to", Query, "/", Range(1, i64::MAX), true),
        (
            "status",
            Query,
            "/api/v1/admin/works",
            OneOf(&["pending_review", "approved", "rejected"]),
            false,
        ),
        (
            "Idempotency-Key",
            Header,
            "/",
            Pattern("^[!-~]{1,128}$"),
            true,
        ),
    ]
};

/// Fields whose shape the schema derived from the type does not say:
/// (schema, property, shape). In a request, never stricter than the
/// server (a value the schema forbids must be one the server refuses); in
/// an answer, every value the server sends.
const PROPERTIES: &[(&str, &str, Shape)] = {
    use Shape::{Format, OneOf, Pattern, Range};
    use shucang_platform::drops::{ORDER_QUANTITY_MAX, PER_USER_LIMIT_MAX};
    use shucang_platform::works::EDITION_SIZE_MAX;
    const PHONE: Shape = Pattern(r"^\s*\+?[0-9 -]+\s*$");
    const SUITE: Shape = OneOf(&["ed25519-sha256", "sm2-sm3"]);
    const EDITIONS: Shape = Range(1, EDITION_SIZE_MAX as i64);
    &[
        ("CodeRequest", "phone", PHONE),
        ("RegisterRequest", "phone", PHONE),
        ("RegisterRequest", "code", Pattern("^[0-9]{6}$")),
        ("LoginRequest", "phone", PHONE),
        ("ReviewRequest", "decision", OneOf(&["approve", "reject"])),
        (
            "ComplaintRequest",
            "category",
            OneOf(&[
                "infringement",
                "illegal_content",
                "fraud",
                "personal_information",
                "other",
            ]),
        ),
        (
            "DropRequest",
            "price_fen",
            Range(0, shucang_types::FEN_PRICE_MAX as i64),
        ),
        ("DropRequest", "supply", EDITIONS),
        (
            "DropRequest",
            "per_user_limit",
            Range(1, PER_USER_LIMIT_MAX as i64),
        ),
        ("DropRequest", "starts_at", Format(KnownFormat::DateTime)),
        ("DropRequest", "ends_at", Format(KnownFormat::DateTime)),
        (
            "OrderRequest",
            "quantity",
            Range(1, ORDER_QUANTITY_MAX as i64),
        ),
        ("WorkForm", "edition_size", EDITIONS),
        (
            "WorkView",
            "status",
            OneOf(&["pending_review", "approved", "rejected"]),
        ),
        (
            "DropView",
            "status",
            OneOf(&["upcoming", "on_sale", "sold_out", "ended"]),
        ),
        ("DropView", "mode", OneOf(&["first_come"])),
        (
            "OrderView",
            "status",
            OneOf(&["reserved", "paid", "minted", "expired"]),
        ),
        (
            "CollectibleView",
            "state",
            OneOf(&["active", "frozen", "burned"]),
        ),
        (
            "HistoryView",
            "kind",
            OneOf(&["mint", "gift", "freeze", "unfreeze", "burn"]),
        ),
        (
            "NotifyResult",
            "result",
            OneOf(&["paid", "already_recorded", "refund_required", "ignored"]),
        ),
        ("ComplaintView", "status", OneOf(&["received"])),
        ("ChainEvidence", "suite", SUITE),
        ("ProofBundleJson", "suite", SUITE),
        ("ProofBundleJson", "format", OneOf(&["shucang-proof/v2"])),
        ("StatsView", "suite", SUITE),
        ("Health", "status", OneOf(&["ok"])),
        // The registry's.
        ("Registration", "phone", PHONE),
        ("Login", "phone", PHONE),
        ("PhoneCode", "phone", PHONE),
        ("PhoneCode", "code", Pattern("^[0-9]{6}$")),
        ("ChangeBody", "changed_on", Format(KnownFormat::Date)),
        (
            "CancellationBody",
            "termination_date",
            Format(KnownFormat::Date),
        ),
        ("CheckinBody", "opens_on", Format(KnownFormat::Date)),
        ("CheckinBody", "closes_on", Format(KnownFormat::Date)),
        (
            "BatchSummary",
            "state",
            OneOf(&["gathered", "objection", "final"]),
        ),
        (
            "BatchView",
            "state",
            OneOf(&["gathered", "objection", "final"]),
        ),
        (
            "SessionView",
            "role",
            OneOf(&["filer", "reviewer", "publisher", "auditor"]),
        ),
    ]
};

/// The schema of a [`Shape`].
fn schema_of(shape: &Shape) -> utoipa::openapi::Schema {
    let object = match shape {
        Shape::Pattern(p) => ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(*p)),
        Shape::Range(min, max) => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(*min))
            .maximum(Some(*max)),
        Shape::OneOf(words) => ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(words.iter().copied())),
        Shape::Format(format) => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format.clone()))),
    };
    object.build().into()
}

/// The modifier both documents list.
pub(crate) struct StandardAnswers;

impl utoipa::Modify for StandardAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        exact_properties(openapi);
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                add_standard_answers(op);
                exact_parameters(path, op);
            }
        }
    }
}

/// Gives the fields of [`PROPERTIES`] their shapes, on top of what the
/// derived schema says of them (type, description, example).
fn exact_properties(openapi: &mut OpenApi) {
    use utoipa::openapi::{RefOr, Schema};
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for (schema, property, shape) in PROPERTIES {
        // The table serves both documents; each has only its own schemas.
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema) else {
            continue;
        };
        let Some(RefOr::T(Schema::Object(field))) = object.properties.get_mut(*property) else {
            panic!("{schema} has no plain field {property}");
        };
        match shape {
            Shape::Pattern(p) => field.pattern = Some((*p).to_owned()),
            Shape::Range(min, max) => {
                field.minimum = Some((*min).into());
                field.maximum = Some((*max).into());
            }
            Shape::OneOf(words) => {
                field.enum_values = Some(words.iter().map(|w| (*w).into()).collect());
            }
            Shape::Format(format) => {
                field.format = Some(SchemaFormat::KnownFormat(format.clone()));
            }
        }
    }
}

/// Gives each parameter of `op` (on `path`) the schema [`PARAMETERS`] has
/// for it.
fn exact_parameters(path: &str, op: &mut Operation) {
    for p in op.parameters.iter_mut().flatten() {
        let row = PARAMETERS.iter().find(|(name, at, prefix, _, _)| {
            *name == p.name && *at == p.parameter_in && path.starts_with(prefix)
        });
        if let Some((_, _, _, shape, required)) = row {
            p.schema = Some(schema_of(shape).into());
            if *required {
                p.required = Required::True;
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
