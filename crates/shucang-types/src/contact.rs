//! E-mail addresses and web addresses as filers and operators give them.

/// Longest e-mail address accepted (RFC 5321's path limit).
pub const EMAIL_LEN_MAX: usize = 254;
/// Longest web address accepted.
pub const URL_LEN_MAX: usize = 2000;

/// An e-mail address of the plain `local@domain.tld` form, stored with a
/// lower-case domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why a string is not an acceptable e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an e-mail address is name@domain.tld, at most 254 characters, without spaces")]
pub struct EmailError;

impl Email {
    /// Parses an address (surrounding spaces ignored).
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let s = input.trim();
        if s.is_empty() || s.len() > EMAIL_LEN_MAX {
            return Err(EmailError);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._%+-!#$&'*/=?^`{|}~".contains(&b))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
        if !local_ok || !domain_ok {
            return Err(EmailError);
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }
}

text_value!(Email, "The address.");

/// An absolute `http` or `https` address with a host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebUrl(String);

/// Why a string is not an acceptable web address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a web address starts with http:// or https://, names a host and has no spaces")]
pub struct WebUrlError;

impl WebUrl {
    /// Parses an address (surrounding spaces ignored).
    pub fn parse(input: &str) -> Result<WebUrl, WebUrlError> {
        let s = input.trim();
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or(WebUrlError)?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or("");
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host.split(':').next().unwrap_or(""),
        };
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b) || !b.is_ascii());
        if s.len() > URL_LEN_MAX
            || !host_ok
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(WebUrlError);
        }
        Ok(WebUrl(s.to_owned()))
    }
}

text_value!(WebUrl, "The address.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Li.Lei+bc@Example.COM ").unwrap().as_str(),
            "Li.Lei+bc@example.com"
        );
        for bad in [
            "", "a", "a@b", "a@b.c", "@b.cn", "a@.cn", "a b@c.cn", "a@b..cn", ".a@b.cn", "a@-b.cn",
            "a@b.c1", "a@@b.cn",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError), "{bad}");
        }
        assert!(Email::parse(&format!("{}@b.cn", "a".repeat(65))).is_err());
    }

    #[test]
    fn urls() {
        for ok in [
            "https://example.cn",
            "http://example.cn:8080/x?y#z",
            "https://[2001:db8::1]/",
            "https://数藏.中国/",
        ] {
            assert!(WebUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "example.cn",
            "ftp://example.cn",
            "https://",
            "https:///x",
            "https://a b.cn",
            "javascript:alert(1)",
            "https://exa\u{0}mple.cn",
        ] {
            assert_eq!(WebUrl::parse(bad), Err(WebUrlError), "{bad}");
        }
    }
}
