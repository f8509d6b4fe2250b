//! Publication (PRODUCT.md §6): approved filings are gathered into numbered
//! batches (第N批), published with a 10-working-day objection window, then
//! made final; the public searches published filings by entity name or
//! complete number.

use shucang_types::FilingNumber;

use crate::{
    BatchRecord, BatchState, BatchStep, NumberRecord, ObjectionRecord, Registry, RegistryError,
    User, UserRole,
};

/// Working days a published batch stays open to objections.
pub const OBJECTION_WORKING_DAYS: u32 = 10;
/// Results of one public search, at most.
pub const SEARCH_RESULTS_MAX: usize = 50;
/// Longest search text, in characters.
pub const SEARCH_CHARS_MAX: usize = 100;
/// Longest objection text, in characters.
pub const OBJECTION_CHARS_MAX: usize = 2000;
/// Objections one address may raise on public notices an hour.
pub const PUBLIC_OBJECTIONS_PER_IP_PER_HOUR: u32 = 5;

/// A batch with its filings.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The batch.
    pub record: BatchRecord,
    /// Its filings, in number order.
    pub entries: Vec<NumberRecord>,
    /// Objections recorded.
    pub objections: Vec<ObjectionRecord>,
}

impl Registry {
    fn publisher(user: &User) -> Result<(), RegistryError> {
        if user.role != UserRole::Publisher {
            return Err(RegistryError::Forbidden("publisher"));
        }
        Ok(())
    }

    /// The objections raised against batches still open for them, for
    /// reviewers and publishers: each with its batch's number.
    pub async fn open_objections(
        &self,
        user: &User,
    ) -> Result<Vec<ObjectionRecord>, RegistryError> {
        if !matches!(user.role, UserRole::Reviewer | UserRole::Publisher) {
            return Err(RegistryError::Forbidden("reviewer"));
        }
        let mut out = Vec::new();
        for b in self.store.batches().await? {
            if b.state == BatchState::Objection {
                out.extend(self.store.objections(b.number).await?);
            }
        }
        Ok(out)
    }

    /// Gathers every approved filing not yet in a batch into the next batch.
    pub async fn gather_batch(&self, user: &User) -> Result<Batch, RegistryError> {
        Self::publisher(user)?;
        let number = self
            .store
            .gather_batch(self.clock.now())
            .await?
            .ok_or(RegistryError::NothingToGather)?;
        self.batch(number).await
    }

    /// A batch (public once published; publishers see all).
    pub async fn batch(&self, number: i64) -> Result<Batch, RegistryError> {
        let record = self
            .store
            .batch(number)
            .await?
            .ok_or(RegistryError::BatchNotFound)?;
        let entries = self.store.batch_entries(number).await?;
        let objections = self.store.objections(number).await?;
        Ok(Batch {
            record,
            entries,
            objections,
        })
    }

    /// A batch for the public: only once published.
    pub async fn published_batch(&self, number: i64) -> Result<Batch, RegistryError> {
        let b = self.batch(number).await?;
        if b.record.state == BatchState::Gathered {
            return Err(RegistryError::BatchNotFound);
        }
        Ok(b)
    }

    /// All batches, newest first; the public sees only published ones.
    pub async fn batches(
        &self,
        include_unpublished: bool,
    ) -> Result<Vec<BatchRecord>, RegistryError> {
        Ok(self
            .store
            .batches()
            .await?
            .into_iter()
            .filter(|b| include_unpublished || b.state != BatchState::Gathered)
            .collect())
    }

    /// Publishes a gathered batch: the objection window runs 10 working
    /// days from the day after.
    pub async fn publish_batch(&self, user: &User, number: i64) -> Result<Batch, RegistryError> {
        Self::publisher(user)?;
        let now = self.clock.now();
        let ends = self
            .calendar
            .add_working_days(now.china_date(), OBJECTION_WORKING_DAYS)?;
        let b = self.batch(number).await?;
        if !self
            .store
            .set_batch_state(
                number,
                &BatchStep {
                    from: BatchState::Gathered,
                    to: BatchState::Objection,
                    at: now,
                    window_ends: Some(ends),
                },
            )
            .await?
        {
            return Err(RegistryError::BatchWrongState(b.record.state.code()));
        }
        self.batch(number).await
    }

    /// Records an objection to a filing of a batch in its window.
    pub async fn record_objection(
        &self,
        user: &User,
        batch: i64,
        number: &str,
        text: &str,
        contact: &str,
    ) -> Result<ObjectionRecord, RegistryError> {
        Self::publisher(user)?;
        self.objection(batch, number, text, contact, user.id).await
    }

    /// An objection raised by anyone on the batch's public notice, while
    /// its window is open; at most [`PUBLIC_OBJECTIONS_PER_IP_PER_HOUR`]
    /// from one address an hour. Recorded as by user 0 (the public);
    /// publishers and reviewers see it with the batch.
    pub async fn raise_objection(
        &self,
        batch: i64,
        number: &str,
        text: &str,
        contact: &str,
        ip: &str,
    ) -> Result<ObjectionRecord, RegistryError> {
        // The batch is checked first, so a closed window spends nothing.
        let b = self.published_batch(batch).await?;
        if b.record.state != BatchState::Objection || self.window_closed(&b.record)? {
            return Err(RegistryError::BatchWrongState(b.record.state.code()));
        }
        let event = shucang_types::WindowedEvent::hourly(
            "objection_ip",
            ip.to_owned(),
            self.clock.now(),
            PUBLIC_OBJECTIONS_PER_IP_PER_HOUR,
        );
        if !self.store.count_in_window(&event).await? {
            return Err(RegistryError::RateLimited);
        }
        self.objection(batch, number, text, contact, 0).await
    }

    /// Records an objection to `number` of `batch` by `recorded_by`.
    async fn objection(
        &self,
        batch: i64,
        number: &str,
        text: &str,
        contact: &str,
        recorded_by: i64,
    ) -> Result<ObjectionRecord, RegistryError> {
        let b = self.batch(batch).await?;
        if b.record.state != BatchState::Objection || self.window_closed(&b.record)? {
            return Err(RegistryError::BatchWrongState(b.record.state.code()));
        }
        let number = number.trim();
        if !b.entries.iter().any(|e| e.number == number) {
            return Err(RegistryError::Invalid {
                field: "number",
                message: "not a filing of this batch".into(),
            });
        }
        let text = text.trim();
        if text.is_empty() || text.chars().count() > OBJECTION_CHARS_MAX {
            return Err(RegistryError::Invalid {
                field: "text",
                message: format!("1 to {OBJECTION_CHARS_MAX} characters"),
            });
        }
        let contact = contact.trim();
        if contact.is_empty() || contact.chars().count() > 200 {
            return Err(RegistryError::Invalid {
                field: "contact",
                message: "1 to 200 characters".into(),
            });
        }
        let mut o = ObjectionRecord {
            id: 0,
            batch,
            number: number.to_owned(),
            text: text.to_owned(),
            contact: contact.to_owned(),
            recorded_by,
            at: self.clock.now(),
        };
        o.id = self.store.insert_objection(&o).await?;
        Ok(o)
    }

    /// Whether today is past the batch's objection window.
    fn window_closed(&self, b: &BatchRecord) -> Result<bool, RegistryError> {
        match b.window_ends {
            Some(ends) => Ok(self.today() > ends),
            None => Ok(false),
        }
    }

    /// Makes a published batch final once its objection window has passed.
    pub async fn finalise_batch(&self, user: &User, number: i64) -> Result<Batch, RegistryError> {
        Self::publisher(user)?;
        let b = self.batch(number).await?;
        if b.record.state != BatchState::Objection {
            return Err(RegistryError::BatchWrongState(b.record.state.code()));
        }
        if !self.window_closed(&b.record)? {
            return Err(RegistryError::WindowOpen(
                b.record
                    .window_ends
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ));
        }
        if !self
            .store
            .set_batch_state(
                number,
                &BatchStep {
                    from: BatchState::Objection,
                    to: BatchState::Final,
                    at: self.clock.now(),
                    window_ends: None,
                },
            )
            .await?
        {
            return Err(RegistryError::BatchWrongState(b.record.state.code()));
        }
        self.batch(number).await
    }

    /// The public search: a complete filing number finds that filing;
    /// anything else finds published filings whose entity name contains it.
    pub async fn search_public(&self, q: &str) -> Result<Vec<NumberRecord>, RegistryError> {
        let q = q.trim();
        if q.is_empty() || q.chars().count() > SEARCH_CHARS_MAX || q.chars().any(char::is_control) {
            return Err(RegistryError::Invalid {
                field: "q",
                message: format!("1 to {SEARCH_CHARS_MAX} characters"),
            });
        }
        let results = match FilingNumber::parse(q) {
            Ok(n) => {
                self.store
                    .search_published("", n.as_str(), SEARCH_RESULTS_MAX)
                    .await?
            }
            Err(_) => {
                self.store
                    .search_published(q, "", SEARCH_RESULTS_MAX)
                    .await?
            }
        };
        Ok(results)
    }
}
