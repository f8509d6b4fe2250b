//! Payments: starting one for an order, the sandbox provider's pay page and
//! "complete" button (which makes the provider send its signed callback),
//! and the notify endpoint that hands callbacks to the payment service,
//! whose provider verifies them. The sandbox's routes use the sandbox
//! provider in [`AppState::sandbox`] and answer 404 without one.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse};
use serde::{Deserialize, Serialize};
use shucang_platform::{
    CallbackError, CallbackOutcome, NotifyError, PaidOutcome, PaymentError, PaymentProvider,
    PaymentRecord, RawCallback, SandboxProvider,
};
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::ErrorBody;
use crate::kit::api::positive_id;
use crate::{ApiError, AppState};

/// A started payment.
#[derive(Serialize, ToSchema)]
pub(crate) struct PaymentView {
    payment_id: String,
    /// Where the buyer pays (the sandbox pay page).
    pay_url: String,
    /// For methods paid by scanning, the QR code's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    qr_payload: Option<String>,
    amount_fen: u64,
}

/// Starts paying the caller's reserved order.
#[utoipa::path(post, path = "/api/v1/orders/{id}/payments", tag = "payments", params(("id" = i64, Path)),
    security(("session" = [])),
    responses(
        (status = 201, body = PaymentView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`order_not_payable`", body = ErrorBody),
    ))]
pub(crate) async fn start(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<PaymentView>), ApiError> {
    let order_id = positive_id(&id, "an order id")?;
    let started = state.payments.start(auth.account.id, order_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(PaymentView {
            payment_id: started.payment.id,
            pay_url: started.pay_url,
            qr_payload: started.qr_payload,
            amount_fen: started.payment.amount.get(),
        }),
    ))
}

/// The sandbox provider and the payment of its that a sandbox path names
/// (404 without a sandbox, for a malformed or unknown id, and for a payment
/// another provider took).
async fn sandbox_payment(
    state: &AppState,
    id: &str,
) -> Result<(Arc<SandboxProvider>, PaymentRecord), ApiError> {
    let sandbox = state.sandbox.clone().ok_or(PaymentError::PaymentNotFound)?;
    let well_formed = id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let found = match well_formed {
        true => state.payments.payment(id).await?,
        false => None,
    };
    let payment = found
        .filter(|p| p.provider == sandbox.code())
        .ok_or(PaymentError::PaymentNotFound)?;
    Ok((sandbox, payment))
}

/// The sandbox provider's pay page.
#[utoipa::path(get, path = "/api/v1/sandbox/payments/{payment_id}", tag = "payments",
    params(("payment_id" = String, Path)),
    responses((status = 200, description = "An HTML page with a pay button", content_type = "text/html"), (status = 404, body = ErrorBody)))]
pub(crate) async fn pay_page(
    State(state): State<AppState>,
    Path(payment_id): Path<String>,
) -> Result<Html<String>, ApiError> {
    let (_, payment) = sandbox_payment(&state, &payment_id).await?;
    // Every interpolated value is an id of [A-Za-z0-9_] or a formatted
    // amount, so nothing here needs escaping.
    Ok(Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>沙箱支付</title>\
         <body><h1>沙箱支付（测试环境，不产生真实扣款）</h1>\
         <p>订单 {} · 金额 {} · 状态 {}</p>\
         <form method=\"post\" action=\"/sandbox/pay/{}\"><button>确认支付</button></form></body></html>",
        payment.order_id, payment.amount, payment.status, payment.id
    )))
}

/// What the sandbox provider posts to the notify endpoint (its schema for
/// the OpenAPI document; `shucang_platform::payments::sandbox` writes and
/// reads it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct Callback {
    payment_id: String,
    amount_fen: u64,
    /// `success` (anything else is acknowledged and ignored).
    status: String,
}

/// The outcome of delivering a callback.
#[derive(Serialize, ToSchema)]
pub(crate) struct Delivery {
    /// The HTTP status the notify endpoint answered.
    notify_status: u16,
    /// Its body.
    notify_response: serde_json::Value,
}

/// Pays in the sandbox: the provider signs a success callback and sends it
/// over HTTP to the platform's notify endpoint, as a real provider would.
#[utoipa::path(post, path = "/api/v1/sandbox/payments/{payment_id}/complete", tag = "payments",
    params(("payment_id" = String, Path)),
    responses((status = 200, body = Delivery), (status = 404, body = ErrorBody)))]
pub(crate) async fn complete(
    State(state): State<AppState>,
    Path(payment_id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    let (sandbox, payment) = sandbox_payment(&state, &payment_id).await?;
    let (notify_status, notify_response) = deliver(&state, &sandbox, &payment).await?;
    Ok(Json(Delivery {
        notify_status,
        notify_response,
    }))
}

/// The sandbox provider signs a success callback for `payment` and sends
/// it over HTTP to the notify endpoint; returns the endpoint's answer.
pub(crate) async fn deliver(
    state: &AppState,
    sandbox: &SandboxProvider,
    payment: &PaymentRecord,
) -> Result<(u16, serde_json::Value), ApiError> {
    let callback = sandbox
        .pay(&payment.id, payment.amount)
        .map_err(|_| PaymentError::NotPayable)?;
    let url = format!("{}/api/v1/payments/notify", state.self_url);
    let mut request = state.http.post(url);
    for (name, value) in &callback.headers {
        request = request.header(name, value);
    }
    let response = request
        .body(callback.body)
        .send()
        .await
        .map_err(|e| ApiError::internal(&format!("delivering the sandbox callback: {e}")))?;
    let status = response.status().as_u16();
    Ok((
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    ))
}

/// `POST /sandbox/pay/{payment_id}`: the pay page's button — pays, then
/// shows the order's page.
pub(crate) async fn pay_and_show(
    State(state): State<AppState>,
    Path(payment_id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let (sandbox, payment) = sandbox_payment(&state, &payment_id).await?;
    deliver(&state, &sandbox, &payment).await?;
    Ok(axum::response::Redirect::to(&format!("/orders/{}", payment.order_id)).into_response())
}

/// How a callback was handled.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotifyResult {
    /// `paid`, `already_recorded`, `refund_required` or `ignored`.
    result: &'static str,
}

/// The payment provider's callback. The signature is checked over the raw
/// body before anything is read; a bad one is refused and changes nothing.
/// Repeated callbacks are acknowledged without effect.
#[utoipa::path(post, path = "/api/v1/payments/notify", tag = "payments",
    request_body(content = Callback, description = "Signed with the `X-Sandbox-Signature` header (HMAC-SHA-256, hex)"),
    responses(
        (status = 200, body = NotifyResult),
        (status = 400, description = "`invalid_signature`, `malformed_callback`, `unknown_payment`, `amount_mismatch`", body = ErrorBody),
    ))]
pub(crate) async fn notify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    let callback = RawCallback {
        body: &body,
        headers: &headers,
    };
    let outcome = match state.payments.notify(&callback).await {
        Ok(CallbackOutcome::Recorded(outcome)) => outcome,
        Ok(CallbackOutcome::Ignored) => return Ok(Json(NotifyResult { result: "ignored" })),
        Err(NotifyError::Refused(e @ CallbackError::BadSignature(_))) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_signature",
                e.to_string(),
            ));
        }
        Err(NotifyError::Refused(CallbackError::Malformed(why))) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_callback",
                why,
            ));
        }
        Err(NotifyError::Store(e)) => return Err(e.into()),
    };
    let result = match outcome {
        PaidOutcome::Paid => "paid",
        PaidOutcome::AlreadyRecorded => "already_recorded",
        PaidOutcome::RefundRequired => "refund_required",
        PaidOutcome::UnknownPayment => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unknown_payment",
                "no such payment",
            ));
        }
        PaidOutcome::AmountMismatch => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "amount_mismatch",
                "the amount differs from the payment's",
            ));
        }
    };
    Ok(Json(NotifyResult { result }))
}
