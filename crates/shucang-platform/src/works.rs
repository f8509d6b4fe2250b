//! Works, their content check and their review (PRODUCT.md §5.2).
//!
//! A work is submitted with its image and copyright evidence; the content
//! filter blocks or flags its texts; a reviewer approves (which creates the
//! work's collection on chain, committing to its metadata document) or
//! rejects it with a reason. Every decision is made once.

use std::sync::Arc;

use serde::Serialize;
use shucang_chain::{
    Chain, CollectionId, NewCollection, Operation, Rejection, SigningKey, SubmitError, Transaction,
};
use shucang_types::{Clock, Role};

use crate::content::ContentFilter;
use crate::media::{ImageType, MediaError, MediaStore};
use crate::store::{NewWork, ReviewRecord, StoreError, WorkRecord, WorkStatus, WorkStore};

/// Longest title, in characters.
pub const TITLE_CHARS_MAX: usize = 100;
/// Longest description, in characters.
pub const DESCRIPTION_CHARS_MAX: usize = 2000;
/// Longest issuer name or copyright evidence, in characters.
pub const FIELD_CHARS_MAX: usize = 200;
/// Largest edition size.
pub const EDITION_SIZE_MAX: u64 = 1_000_000;
/// Longest review reason, in characters.
pub const REASON_CHARS_MAX: usize = 500;
/// Most works in one listing.
pub const WORKS_PAGE_MAX: u32 = 200;

/// A submission, as typed.
#[derive(Debug, Clone)]
pub struct WorkDraft {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Editions that may ever be sold.
    pub edition_size: u64,
    /// The issuer's name.
    pub issuer: String,
    /// Copyright registration number or authorisation reference.
    pub copyright_evidence: String,
    /// The image file.
    pub image: Vec<u8>,
}

/// A reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approve: the collection is created on chain.
    Approve,
    /// Reject, with a reason for the submitter.
    Reject {
        /// Why.
        reason: String,
    },
}

/// Why a work could not be submitted or reviewed.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// The caller's role may not do this.
    #[error("your role may not do this")]
    Forbidden,
    /// A field is missing, empty or too long; names the field.
    #[error("{0}")]
    InvalidField(String),
    /// The content filter blocked the texts.
    #[error("the text contains blocked words: {}", .0.join(", "))]
    ContentBlocked(Vec<String>),
    /// The image is refused.
    #[error(transparent)]
    Image(MediaError),
    /// No such work.
    #[error("no such work")]
    NotFound,
    /// The work was already reviewed.
    #[error("the work was already reviewed")]
    AlreadyReviewed,
    /// The reviewer submitted this work: another reviewer must approve it.
    #[error("you submitted this work; another reviewer must approve it")]
    OwnSubmission,
    /// The chain refused or is unavailable.
    #[error("the chain could not create the collection: {0}")]
    Chain(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The ERC-721 metadata document of a work, committed to on chain by hash.
#[derive(Debug, Serialize)]
pub struct WorkMetadata {
    /// The title.
    pub name: String,
    /// The description.
    pub description: String,
    /// Where the image is served.
    pub image: String,
    /// Edition size, issuer, image hash, copyright evidence.
    pub attributes: Vec<MetadataAttribute>,
}

/// One ERC-721 metadata attribute.
#[derive(Debug, Serialize)]
pub struct MetadataAttribute {
    /// The attribute's name.
    pub trait_type: &'static str,
    /// Its value.
    pub value: serde_json::Value,
}

/// What a [`WorksService`] is built from.
pub struct WorksDeps {
    /// Storage.
    pub store: Arc<dyn WorkStore>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The content filter.
    pub filter: Arc<ContentFilter>,
    /// Where uploaded images are kept.
    pub media: MediaStore,
    /// The embedded chain.
    pub chain: Arc<Chain>,
    /// An operator key of the chain, which signs what the platform writes to it.
    pub operator: SigningKey,
    /// Whether a reviewer is refused approving their own submission.
    pub four_eyes: bool,
}

/// Works and their review.
pub struct WorksService {
    deps: WorksDeps,
}

/// A text field, trimmed: at most `max` characters and no control
/// characters but line breaks; the error names the field.
fn check_text(name: &str, value: &str, max: usize) -> Result<String, WorkError> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(WorkError::InvalidField(format!(
            "{name} is longer than {max} characters"
        )));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return Err(WorkError::InvalidField(format!(
            "{name} contains control characters"
        )));
    }
    Ok(v.to_owned())
}

/// Like [`check_text`], and not empty.
fn required_text(name: &str, value: &str, max: usize) -> Result<String, WorkError> {
    let v = check_text(name, value, max)?;
    if v.is_empty() {
        return Err(WorkError::InvalidField(format!("{name} is required")));
    }
    Ok(v)
}

/// The chain collection id of a work.
pub fn collection_of(work_id: i64) -> CollectionId {
    CollectionId::parse(&format!("work-{work_id}")).expect("work ids make valid collection ids")
}

impl WorksService {
    /// Builds the service.
    pub fn new(deps: WorksDeps) -> WorksService {
        WorksService { deps }
    }

    /// Submits a work for review (reviewers and system admins).
    pub async fn submit(
        &self,
        role: Role,
        account_id: i64,
        draft: WorkDraft,
    ) -> Result<WorkRecord, WorkError> {
        if !matches!(role, Role::Reviewer | Role::SystemAdmin) {
            return Err(WorkError::Forbidden);
        }
        let title = required_text("title", &draft.title, TITLE_CHARS_MAX)?;
        let description = check_text("description", &draft.description, DESCRIPTION_CHARS_MAX)?;
        let issuer = required_text("issuer", &draft.issuer, FIELD_CHARS_MAX)?;
        let copyright_evidence = required_text(
            "copyright_evidence",
            &draft.copyright_evidence,
            FIELD_CHARS_MAX,
        )?;
        if !(1..=EDITION_SIZE_MAX).contains(&draft.edition_size) {
            return Err(WorkError::InvalidField(format!(
                "edition_size must be between 1 and {EDITION_SIZE_MAX}"
            )));
        }
        let report = self.deps.filter.check(&[&title, &description, &issuer]);
        if !report.blocked.is_empty() {
            return Err(WorkError::ContentBlocked(report.blocked));
        }
        let media = self.deps.media.clone();
        let image = draft.image;
        let (image_sha256, image_type) =
            tokio::task::spawn_blocking(move || media.save_image(&image))
                .await
                .map_err(|e| {
                    WorkError::Image(MediaError::Io(std::io::Error::other(e.to_string())))
                })?
                .map_err(WorkError::Image)?;
        let work = NewWork {
            title,
            description,
            edition_size: draft.edition_size,
            issuer,
            copyright_evidence,
            image_sha256,
            image_type: image_type.code().to_owned(),
            flags: report.flagged,
            created_by: account_id,
            created_at: self.deps.clock.now(),
        };
        let id = self.deps.store.insert_work(&work).await?;
        tracing::info!(
            work_id = id,
            flagged = work.flags.len(),
            "work submitted for review"
        );
        self.deps
            .store
            .work_by_id(id)
            .await?
            .ok_or(WorkError::NotFound)
    }

    /// A work by id.
    pub async fn work(&self, id: i64) -> Result<Option<WorkRecord>, WorkError> {
        Ok(self.deps.store.work_by_id(id).await?)
    }

    /// The review queue or other listings (staff).
    pub async fn list(
        &self,
        role: Role,
        status: Option<WorkStatus>,
        limit: u32,
    ) -> Result<Vec<WorkRecord>, WorkError> {
        if !matches!(role, Role::Reviewer | Role::SystemAdmin) {
            return Err(WorkError::Forbidden);
        }
        Ok(self
            .deps
            .store
            .list_works(status, limit.clamp(1, WORKS_PAGE_MAX))
            .await?)
    }

    /// The metadata document of a work (its bytes are what the chain commits to).
    pub fn metadata(&self, work: &WorkRecord) -> WorkMetadata {
        let w = &work.work;
        WorkMetadata {
            name: w.title.clone(),
            description: w.description.clone(),
            image: format!("/api/v1/works/{}/image", work.id),
            attributes: vec![
                MetadataAttribute {
                    trait_type: "edition_size",
                    value: w.edition_size.into(),
                },
                MetadataAttribute {
                    trait_type: "issuer",
                    value: w.issuer.clone().into(),
                },
                MetadataAttribute {
                    trait_type: "image_sha256",
                    value: w.image_sha256.clone().into(),
                },
                MetadataAttribute {
                    trait_type: "copyright_evidence",
                    value: w.copyright_evidence.clone().into(),
                },
            ],
        }
    }

    /// The metadata document's canonical bytes.
    pub fn metadata_bytes(&self, work: &WorkRecord) -> Vec<u8> {
        serde_json::to_vec(&self.metadata(work)).expect("metadata always serialises")
    }

    /// The stored image of a work.
    pub fn image(&self, work: &WorkRecord) -> Result<Option<(Vec<u8>, ImageType)>, WorkError> {
        let kind = ImageType::from_code(&work.work.image_type)
            .ok_or_else(|| WorkError::Image(MediaError::NotAnImage))?;
        Ok(self
            .deps
            .media
            .read(&work.work.image_sha256)
            .map_err(WorkError::Image)?
            .map(|b| (b, kind)))
    }

    /// Records a reviewer's decision (reviewers only). Approval creates the
    /// work's collection on chain first; if the collection already exists
    /// (a retry after a crash), that creation is used.
    pub async fn review(
        &self,
        role: Role,
        reviewer: i64,
        id: i64,
        decision: Decision,
    ) -> Result<WorkRecord, WorkError> {
        if role != Role::Reviewer {
            return Err(WorkError::Forbidden);
        }
        let work = self
            .deps
            .store
            .work_by_id(id)
            .await?
            .ok_or(WorkError::NotFound)?;
        if work.status != WorkStatus::PendingReview {
            return Err(WorkError::AlreadyReviewed);
        }
        if self.deps.four_eyes
            && work.work.created_by == reviewer
            && matches!(decision, Decision::Approve)
        {
            return Err(WorkError::OwnSubmission);
        }
        let now = self.deps.clock.now();
        let review = match decision {
            Decision::Reject { reason } => {
                let reason = required_text("reason", &reason, REASON_CHARS_MAX)?;
                ReviewRecord {
                    status: WorkStatus::Rejected,
                    reason: Some(reason),
                    reviewed_by: reviewer,
                    reviewed_at: now,
                    collection_id: None,
                    chain_tx: None,
                    metadata_hash: None,
                }
            }
            Decision::Approve => {
                let (collection, tx_hash, metadata_hash) = self.create_collection(&work).await?;
                ReviewRecord {
                    status: WorkStatus::Approved,
                    reason: None,
                    reviewed_by: reviewer,
                    reviewed_at: now,
                    collection_id: Some(collection),
                    chain_tx: Some(tx_hash),
                    metadata_hash: Some(metadata_hash),
                }
            }
        };
        if !self.deps.store.record_review(id, &review).await? {
            return Err(WorkError::AlreadyReviewed);
        }
        tracing::info!(
            work_id = id,
            status = review.status.code(),
            reviewer,
            "work reviewed"
        );
        self.deps
            .store
            .work_by_id(id)
            .await?
            .ok_or(WorkError::NotFound)
    }

    async fn create_collection(
        &self,
        work: &WorkRecord,
    ) -> Result<(String, String, String), WorkError> {
        let suite = self.deps.operator.suite();
        let collection = collection_of(work.id);
        let metadata_hash = suite.hash(&self.metadata_bytes(work));
        let tx = Transaction {
            suite,
            nonce: work.id as u64,
            signer: self.deps.operator.public_key(),
            operation: Operation::CreateCollection(NewCollection {
                collection: collection.clone(),
                name: work.work.title.clone(),
                symbol: format!("W{}", work.id),
                supply_cap: work.work.edition_size,
                issuer: work.work.issuer.clone(),
                metadata_uri: format!("/api/v1/works/{}/metadata", work.id),
                metadata_hash,
            }),
        }
        .sign(&self.deps.operator);
        let tx_hash = tx.tx.hash();
        match self.deps.chain.submit(tx).await {
            Ok(_) | Err(SubmitError::Rejected(Rejection::Replayed)) => {}
            Err(e) => return Err(WorkError::Chain(e.to_string())),
        }
        Ok((
            collection.as_str().to_owned(),
            hex::encode(tx_hash),
            hex::encode(metadata_hash),
        ))
    }
}
