//! Personal data in stored applications: the applicant's and the
//! responsible person's ID numbers, and the address on the applicant's ID
//! document, are kept encrypted
//! (AES-256-GCM under the registry's PII key, [`PiiCipher`]), each bound
//! to its filer and field, so a value copied to another filer's row or
//! field does not decrypt. The rest of the form is what the registry
//! publishes or shows staff anyway.
//!
//! Forms are sealed on their way to the store ([`FormSeal::seal`]: drafts,
//! edits, transitions and pending changes) and opened when an application
//! is loaded ([`FormSeal::open`]). A value is stored as `enc:v1:` and the
//! hex of nonce and ciphertext; a value without the prefix (written before
//! encryption existed) is read as it is and sealed at its next write.

use std::sync::Arc;

use shucang_auth::PiiCipher;

use crate::{ApplicationForm, ApplicationRecord, Pending, PendingUpdate, StoreError, Transition};

/// Seals and opens the personal fields of application forms.
pub(crate) struct FormSeal {
    cipher: Arc<PiiCipher>,
}

/// The sealed fields, by name, of a form.
fn fields(form: &mut ApplicationForm) -> [(&'static str, Option<&mut Option<String>>); 3] {
    let individual = form.applicant.individual.as_mut();
    let (id_number, id_address) = match individual {
        Some(i) => (Some(&mut i.id_number), Some(&mut i.id_address)),
        None => (None, None),
    };
    let r = &mut form.responsible;
    [
        ("applicant.individual.id_number", id_number),
        ("applicant.individual.id_address", id_address),
        ("responsible.id_number", Some(&mut r.id_number)),
    ]
}

impl FormSeal {
    pub(crate) fn new(cipher: Arc<PiiCipher>) -> FormSeal {
        FormSeal { cipher }
    }

    fn context(filer_id: i64, field: &str) -> String {
        format!("reg_applications.form.{field}:{filer_id}")
    }

    /// `form` with its personal fields sealed for `filer_id`.
    pub(crate) fn seal(&self, filer_id: i64, form: &ApplicationForm) -> ApplicationForm {
        let mut sealed = form.clone();
        for (field, value) in fields(&mut sealed) {
            if let Some(Some(plain)) = value {
                *plain = self
                    .cipher
                    .seal_text(&Self::context(filer_id, field), plain);
            }
        }
        sealed
    }

    /// Opens the personal fields of a form sealed for `filer_id`.
    pub(crate) fn open(&self, filer_id: i64, form: &mut ApplicationForm) -> Result<(), StoreError> {
        for (field, value) in fields(form) {
            if let Some(Some(stored)) = value {
                *stored = self
                    .cipher
                    .open_text(&Self::context(filer_id, field), stored)
                    .map_err(|_| {
                        StoreError::Backend(format!(
                            "the stored {field} does not decrypt (wrong key or a damaged row)"
                        ))
                    })?;
            }
        }
        Ok(())
    }

    /// Opens a loaded record: its form and a pending change's form.
    pub(crate) fn open_record(&self, r: &mut ApplicationRecord) -> Result<(), StoreError> {
        self.open(r.filer_id, &mut r.form)?;
        if let Some(Pending::Change { form, .. }) = &mut r.pending {
            self.open(r.filer_id, form)?;
        }
        Ok(())
    }

    /// A transition as it is stored: any form it writes, sealed.
    pub(crate) fn seal_transition(&self, filer_id: i64, t: &Transition) -> Transition {
        let mut stored = t.clone();
        if let Some(form) = &stored.form {
            stored.form = Some(self.seal(filer_id, form));
        }
        if let PendingUpdate::Set(Pending::Change { form, .. }) = &mut stored.pending {
            **form = self.seal(filer_id, form);
        }
        stored
    }
}

/// Masks a document number for staff whose task does not need it: the
/// first characters and the last four stay (`110105********002X` for a
/// resident ID), the rest become stars.
fn masked(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let (head, tail) = match chars.len() {
        0..=4 => (0, 0),
        5..=9 => (1, 1),
        n => ((n / 3).min(6), 4),
    };
    let stars = chars.len() - head - tail;
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', stars));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// Masks the personal fields of a form (and of a pending change's form)
/// for staff who see applications but do not examine identities:
/// publishers and auditors.
pub(crate) fn mask_personal(r: &mut ApplicationRecord) {
    let mut forms = vec![&mut r.form];
    if let Some(Pending::Change { form, .. }) = &mut r.pending {
        forms.push(form);
    }
    for form in forms {
        for (_, value) in fields(form) {
            if let Some(Some(v)) = value {
                *v = masked(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{Individual, Responsible};

    fn form() -> ApplicationForm {
        let mut f = ApplicationForm::default();
        f.applicant.individual = Some(Individual {
            name: Some("张三".into()),
            id_number: Some("11010519491231002X".into()),
            id_address: Some("北京市朝阳区某路1号".into()),
            ..Default::default()
        });
        f.responsible = Responsible {
            id_number: Some("110105194912310029".into()),
            ..Default::default()
        };
        f
    }

    #[test]
    fn document_numbers_are_masked_keeping_the_ends() {
        assert_eq!(masked("11010519491231002X"), "110105********002X");
        assert_eq!(masked("E12345678"), "E*******8");
        assert_eq!(masked("abc"), "***");
        let mut r = ApplicationRecord {
            id: 1,
            filer_id: 7,
            state: crate::AppState::Draft,
            form: form(),
            version: 1,
            submitted_at: None,
            due_date: None,
            due_provisional: None,
            decision: None,
            pending: None,
            created_at: shucang_types::UnixMillis(0),
            updated_at: shucang_types::UnixMillis(0),
        };
        mask_personal(&mut r);
        let json = serde_json::to_string(&r.form).unwrap();
        assert!(!json.contains("1949123"), "{json}");
        assert!(json.contains("110105********002X"), "{json}");
    }

    #[test]
    fn personal_fields_are_sealed_per_filer_and_open_again() {
        let seal = FormSeal::new(Arc::new(PiiCipher::new(&[3; 32])));
        let sealed = seal.seal(7, &form());
        let json = serde_json::to_string(&sealed).unwrap();
        assert!(!json.contains("11010519491231002X"), "{json}");
        assert!(!json.contains("110105194912310029"), "{json}");
        assert!(!json.contains("某路"), "{json}");
        assert!(json.contains("张三"), "names are not sealed");
        // Sealing twice changes nothing more.
        assert_eq!(seal.seal(7, &sealed), sealed);
        let mut opened = sealed.clone();
        seal.open(7, &mut opened).unwrap();
        assert_eq!(opened, form());
        // Another filer's row, or another key, does not open it.
        assert!(seal.open(8, &mut sealed.clone()).is_err());
        assert!(
            FormSeal::new(Arc::new(PiiCipher::new(&[4; 32])))
                .open(7, &mut sealed.clone())
                .is_err()
        );
        // A value stored before sealing existed reads as it is.
        let mut legacy = form();
        seal.open(7, &mut legacy).unwrap();
        assert_eq!(legacy, form());
    }
}
