//! The platform's rows of the error table. Keys are in `i18n/<lang>.json`.

use axum::http::StatusCode as S;
use shucang_chain::ChainError;
use shucang_platform::identity::RealNameError;
use shucang_platform::media::MediaError;
use shucang_platform::{
    AccountError, CollectibleError, ComplaintError, DropError, IdentityError, LoginError,
    PaymentError, PurchaseError, StoreError, WorkError,
};
use shucang_types::{IdNumberError, PasswordProblem, PhoneError};

use super::{DomainError, Meaning};

impl DomainError for StoreError {
    fn meaning(&self) -> Option<Meaning> {
        None
    }
}

impl DomainError for PhoneError {
    fn meaning(&self) -> Option<Meaning> {
        Some(row!(S::UNPROCESSABLE_ENTITY, "invalid_phone"))
    }
}

impl DomainError for IdNumberError {
    fn meaning(&self) -> Option<Meaning> {
        Some(row!(S::UNPROCESSABLE_ENTITY, "invalid_id_number"))
    }
}

impl DomainError for RealNameError {
    fn meaning(&self) -> Option<Meaning> {
        Some(row!(S::UNPROCESSABLE_ENTITY, "invalid_name"))
    }
}

impl DomainError for AccountError {
    fn meaning(&self) -> Option<Meaning> {
        Some(match self {
            AccountError::WeakPassword(problem) => Meaning::row(
                S::UNPROCESSABLE_ENTITY,
                "weak_password",
                match problem {
                    PasswordProblem::TooShort => "error_weak_password_short",
                    PasswordProblem::TooLong => "error_weak_password_long",
                    PasswordProblem::TooFewClasses => "error_weak_password_classes",
                    PasswordProblem::ContainsPhone => "error_weak_password_phone",
                },
            ),
            AccountError::PhoneTaken => {
                row!(S::CONFLICT, "phone_taken").message("this phone number is already registered")
            }
            AccountError::RateLimited => row!(S::TOO_MANY_REQUESTS, "rate_limited"),
            AccountError::InvalidCode => row!(S::UNPROCESSABLE_ENTITY, "invalid_code"),
            AccountError::Busy => Meaning::busy(),
            AccountError::Store(_) | AccountError::Hashing(_) => return None,
        })
    }
}

impl DomainError for LoginError {
    fn meaning(&self) -> Option<Meaning> {
        Some(match self {
            LoginError::InvalidCredentials => row!(S::UNAUTHORIZED, "invalid_credentials")
                .message("wrong phone number or password"),
            LoginError::Locked { until } => row!(S::LOCKED, "account_locked").message(format!(
                "too many failed logins; the account is locked until {}",
                until.to_rfc3339_utc()
            )),
            LoginError::Busy => Meaning::busy(),
            LoginError::Store(_) => return None,
        })
    }
}

impl DomainError for IdentityError {
    fn meaning(&self) -> Option<Meaning> {
        Some(match self {
            IdentityError::ConsentRequired => row!(S::UNPROCESSABLE_ENTITY, "consent_required"),
            IdentityError::AlreadyVerified => row!(S::CONFLICT, "identity_already_verified"),
            IdentityError::IdentityInUse => row!(S::CONFLICT, "identity_in_use"),
            IdentityError::Mismatch => row!(S::UNPROCESSABLE_ENTITY, "identity_mismatch"),
            IdentityError::RateLimited => row!(S::TOO_MANY_REQUESTS, "rate_limited"),
            IdentityError::Unavailable(_) => {
                row!(S::SERVICE_UNAVAILABLE, "identity_provider_unavailable")
            }
            IdentityError::Pii(_) | IdentityError::Store(_) => return None,
        })
    }
}

impl DomainError for ComplaintError {
    fn meaning(&self) -> Option<Meaning> {
        Some(match self {
            // The message names the field; the page says which one.
            ComplaintError::InvalidField(message) => {
                let key = ["category", "target", "contact"]
                    .into_iter()
                    .find(|f| message.starts_with(*f) || message.contains(&format!("{f} ")))
                    .map_or("error_invalid_text", |f| match f {
                        "category" => "error_invalid_category",
                        "target" => "error_invalid_target",
                        _ => "error_invalid_contact",
                    });
                Meaning::row(S::UNPROCESSABLE_ENTITY, "invalid_field", key)
            }
            ComplaintError::RateLimited => row!(S::TOO_MANY_REQUESTS, "rate_limited"),
            ComplaintError::Store(_) => return None,
        })
    }
}

impl DomainError for WorkError {
    fn meaning(&self) -> Option<Meaning> {
        Some(match self {
            WorkError::Forbidden => row!(S::FORBIDDEN, "forbidden"),
            WorkError::InvalidField(m) => {
                row!(S::UNPROCESSABLE_ENTITY, "invalid_field").detail(m.clone())
            }
            WorkError::ContentBlocked(_) => row!(S::UNPROCESSABLE_ENTITY, "content_blocked"),
            WorkError::Image(MediaError::NotAnImage) => {
                row!(S::UNPROCESSABLE_ENTITY, "invalid_image")
            }
            WorkError::Image(MediaError::TooLarge) => row!(S::PAYLOAD_TOO_LARGE, "image_too_large"),
            WorkError::NotFound => Meaning::row(S::NOT_FOUND, "not_found", "error_work_not_found"),
            WorkError::AlreadyReviewed => row!(S::CONFLICT, "work_already_reviewed"),
            WorkError::OwnSubmission => row!(S::FORBIDDEN, "own_submission"),
            WorkError::Image(MediaError::Io(_)) | WorkError::Chain(_) | WorkError::Store(_) => {
                return None;
            }
        })
    }
}

impl DomainError for DropError {
    fn meaning(&self) -> Option<Meaning> {
        Some(match self {
            DropError::Forbidden => row!(S::FORBIDDEN, "forbidden"),
            DropError::InvalidField(m) => {
                row!(S::UNPROCESSABLE_ENTITY, "invalid_field").detail(m.clone())
            }
            DropError::WorkNotApproved => row!(S::UNPROCESSABLE_ENTITY, "work_not_approved"),
            DropError::EditionsExhausted => row!(S::CONFLICT, "editions_exhausted"),
            DropError::Store(_) => return None,
        })
    }
}

impl DomainError for PurchaseError {
    fn meaning(&self) -> Option<Meaning> {
        use PurchaseError as E;
        Some(match self {
            E::IdentityRequired => row!(S::FORBIDDEN, "identity_required"),
            E::MinorNotAllowed => row!(S::FORBIDDEN, "minor_not_allowed"),
            E::InvalidQuantity => row!(S::UNPROCESSABLE_ENTITY, "invalid_quantity"),
            E::InvalidKey => Meaning::row(
                S::BAD_REQUEST,
                "invalid_idempotency_key",
                "error_invalid_quantity",
            ),
            E::KeyReused => Meaning::row(
                S::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "error_invalid_quantity",
            ),
            E::DropNotFound => Meaning::row(S::NOT_FOUND, "not_found", "error_drop_not_found"),
            E::NotOpen => row!(S::CONFLICT, "drop_not_open"),
            E::SoldOut => row!(S::CONFLICT, "sold_out"),
            E::LimitReached => row!(S::CONFLICT, "purchase_limit_reached"),
            E::Identity(_) | E::Store(_) => return None,
        })
    }
}

impl DomainError for PaymentError {
    fn meaning(&self) -> Option<Meaning> {
        Some(match self {
            PaymentError::OrderNotFound | PaymentError::PaymentNotFound => {
                Meaning::row(S::NOT_FOUND, "not_found", "error_order_not_found")
            }
            PaymentError::NotPayable => row!(S::CONFLICT, "order_not_payable"),
            // A provider that fails is an outage: 500, logged.
            PaymentError::Provider(_) | PaymentError::Store(_) => return None,
        })
    }
}

impl DomainError for CollectibleError {
    fn meaning(&self) -> Option<Meaning> {
        use CollectibleError as E;
        Some(match self {
            E::NotFound => row!(S::NOT_FOUND, "not_found"),
            E::WrongPassword => row!(S::FORBIDDEN, "wrong_password"),
            E::RateLimited => row!(S::TOO_MANY_REQUESTS, "rate_limited"),
            E::AccountLocked { until } => row!(S::LOCKED, "account_locked").message(format!(
                "too many failed password attempts; the account is locked until {}",
                until.to_rfc3339_utc()
            )),
            E::RecipientNotFound => row!(S::UNPROCESSABLE_ENTITY, "recipient_not_found"),
            E::RecipientNotVerified => row!(S::UNPROCESSABLE_ENTITY, "recipient_not_verified"),
            E::RecipientMinor => row!(S::UNPROCESSABLE_ENTITY, "recipient_minor"),
            E::SelfGift => row!(S::UNPROCESSABLE_ENTITY, "cannot_gift_to_self"),
            E::Frozen => row!(S::CONFLICT, "token_frozen"),
            E::HoldingPeriod(_) => row!(S::CONFLICT, "holding_period"),
            E::DailyLimit => row!(S::CONFLICT, "daily_gift_limit_reached"),
            E::IdentityRequired => row!(S::FORBIDDEN, "identity_required"),
            E::Busy => Meaning::busy(),
            E::Chain(_) | E::Identity(_) | E::Store(_) => return None,
        })
    }
}

impl DomainError for ChainError {
    fn meaning(&self) -> Option<Meaning> {
        match self {
            ChainError::Stopped(_) => {
                Some(row!(S::SERVICE_UNAVAILABLE, "chain_unavailable").message(
                    "the chain is stopped after a storage failure; the operator must restart it",
                ))
            }
            _ => None,
        }
    }
}

/// Every row's key with an example error, for the test that the tables
/// hold each key.
#[cfg(test)]
pub(super) fn sample_keys() -> Vec<&'static str> {
    use shucang_types::UnixMillis;
    let rows: Vec<Box<dyn DomainError>> = vec![
        Box::new(PhoneError::Invalid),
        Box::new(IdNumberError::Format),
        Box::new(RealNameError),
        Box::new(AccountError::PhoneTaken),
        Box::new(AccountError::RateLimited),
        Box::new(AccountError::WeakPassword(PasswordProblem::TooShort)),
        Box::new(AccountError::WeakPassword(PasswordProblem::TooLong)),
        Box::new(AccountError::WeakPassword(PasswordProblem::TooFewClasses)),
        Box::new(AccountError::WeakPassword(PasswordProblem::ContainsPhone)),
        Box::new(LoginError::InvalidCredentials),
        Box::new(LoginError::Locked {
            until: UnixMillis(0),
        }),
        Box::new(IdentityError::ConsentRequired),
        Box::new(IdentityError::AlreadyVerified),
        Box::new(IdentityError::IdentityInUse),
        Box::new(IdentityError::Mismatch),
        Box::new(IdentityError::RateLimited),
        Box::new(ComplaintError::InvalidField("category is unknown".into())),
        Box::new(ComplaintError::InvalidField("target is too long".into())),
        Box::new(ComplaintError::InvalidField("contact is required".into())),
        Box::new(ComplaintError::InvalidField("text is too short".into())),
        Box::new(ComplaintError::RateLimited),
        Box::new(WorkError::Forbidden),
        Box::new(WorkError::InvalidField("x".into())),
        Box::new(WorkError::ContentBlocked(vec![])),
        Box::new(WorkError::Image(MediaError::NotAnImage)),
        Box::new(WorkError::Image(MediaError::TooLarge)),
        Box::new(WorkError::NotFound),
        Box::new(WorkError::AlreadyReviewed),
        Box::new(WorkError::OwnSubmission),
        Box::new(DropError::WorkNotApproved),
        Box::new(DropError::EditionsExhausted),
        Box::new(PurchaseError::IdentityRequired),
        Box::new(PurchaseError::MinorNotAllowed),
        Box::new(PurchaseError::InvalidQuantity),
        Box::new(PurchaseError::DropNotFound),
        Box::new(PurchaseError::NotOpen),
        Box::new(PurchaseError::SoldOut),
        Box::new(PurchaseError::LimitReached),
        Box::new(PaymentError::OrderNotFound),
        Box::new(PaymentError::NotPayable),
        Box::new(CollectibleError::NotFound),
        Box::new(CollectibleError::WrongPassword),
        Box::new(CollectibleError::RateLimited),
        Box::new(CollectibleError::AccountLocked {
            until: shucang_types::UnixMillis(0),
        }),
        Box::new(CollectibleError::RecipientNotFound),
        Box::new(CollectibleError::RecipientNotVerified),
        Box::new(CollectibleError::RecipientMinor),
        Box::new(CollectibleError::SelfGift),
        Box::new(CollectibleError::Frozen),
        Box::new(CollectibleError::HoldingPeriod(UnixMillis(0))),
        Box::new(CollectibleError::DailyLimit),
        Box::new(CollectibleError::IdentityRequired),
    ];
    rows.iter()
        .filter_map(|e| e.meaning())
        .map(|m| m.key)
        .collect()
}
