//! The canonical binary encoding of chain data.
//!
//! Integers are fixed-width big-endian; byte strings and UTF-8 strings carry
//! a `u32` big-endian length and have a named maximum; enums are one tag
//! byte. There is exactly one encoding of every value, so hashes over
//! encodings are well defined; the decoder refuses anything else (short
//! input, trailing bytes, unknown tags, over-long fields, invalid UTF-8).
//!
//! Written here rather than with a serialisation crate because the encoding
//! *is* the consensus format: every byte must be specified by this file.

/// Why bytes are not a canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ends inside a field.
    #[error("truncated at byte {at} reading {field}")]
    Truncated {
        /// Offset where the field started.
        at: usize,
        /// The field being read.
        field: &'static str,
    },
    /// A length prefix exceeds the field's maximum.
    #[error("{field} is {len} bytes long; at most {max} allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The announced length.
        len: u64,
        /// The maximum.
        max: usize,
    },
    /// An enum tag byte with no meaning.
    #[error("unknown {field} tag {tag}")]
    BadTag {
        /// The enum.
        field: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A string field is not UTF-8.
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// Bytes remain after a complete value.
    #[error("{extra} trailing bytes after the value")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A value that decodes but is not in its canonical form.
    #[error("non-canonical encoding: {0}")]
    NonCanonical(&'static str),
}

/// Builds a canonical encoding.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Writer {
        Writer::default()
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Writer {
        self.buf.push(v);
        self
    }

    pub(crate) fn u16(&mut self, v: u16) -> &mut Writer {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Writer {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Writer {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Bytes whose length the type fixes (hashes, addresses).
    pub(crate) fn fixed(&mut self, v: &[u8]) -> &mut Writer {
        self.buf.extend_from_slice(v);
        self
    }

    /// A length-prefixed byte string. Callers hold values already checked
    /// against their maximum, which is far below `u32::MAX`.
    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Writer {
        let len = u32::try_from(v.len()).expect("field lengths are bounded far below 4 GiB");
        self.u32(len);
        self.buf.extend_from_slice(v);
        self
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn str(&mut self, v: &str) -> &mut Writer {
        self.bytes(v.as_bytes())
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// Reads a canonical encoding, refusing anything non-canonical.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// `len`, if it is at most `max`: the bound every counted or
/// length-prefixed field has.
pub(crate) fn bounded(field: &'static str, len: u64, max: usize) -> Result<usize, DecodeError> {
    match usize::try_from(len) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(DecodeError::TooLong { field, len, max }),
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or(DecodeError::Truncated {
                at: self.pos,
                field,
            })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn fixed<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.fixed::<1>(field)?[0])
    }

    /// A format version byte that must be `expected`.
    pub(crate) fn version(&mut self, field: &'static str, expected: u8) -> Result<(), DecodeError> {
        match self.u8(field)? {
            v if v == expected => Ok(()),
            tag => Err(DecodeError::BadTag { field, tag }),
        }
    }

    /// A crypto suite's code byte.
    pub(crate) fn suite(&mut self) -> Result<shucang_verify::Suite, DecodeError> {
        let tag = self.u8("suite")?;
        shucang_verify::Suite::from_code(tag).ok_or(DecodeError::BadTag {
            field: "suite",
            tag,
        })
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.fixed(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.fixed(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.fixed(field)?))
    }

    /// A length-prefixed byte string of at most `max` bytes.
    pub(crate) fn bytes(
        &mut self,
        field: &'static str,
        max: usize,
    ) -> Result<&'a [u8], DecodeError> {
        let len = self.count(field, field, max)?;
        self.take(len, field)
    }

    /// A `u32` count (read as `count_field`) of at most `max` items of
    /// `field`.
    pub(crate) fn count(
        &mut self,
        count_field: &'static str,
        field: &'static str,
        max: usize,
    ) -> Result<usize, DecodeError> {
        let n = self.u32(count_field)?;
        bounded(field, u64::from(n), max)
    }

    /// A length-prefixed UTF-8 string of at most `max` bytes.
    pub(crate) fn str(&mut self, field: &'static str, max: usize) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes(field, max)?).map_err(|_| DecodeError::InvalidUtf8 { field })
    }

    /// Succeeds only if every byte was consumed.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        match self.buf.len() - self.pos {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes { extra }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_of_every_kind() {
        let bytes = Writer::new()
            .u8(7)
            .u16(0x0102)
            .u32(0x0304_0506)
            .u64(u64::MAX)
            .fixed(&[9; 4])
            .bytes(b"abc")
            .str("数藏")
            .finish();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a"), Ok(7));
        assert_eq!(r.u16("b"), Ok(0x0102));
        assert_eq!(r.u32("c"), Ok(0x0304_0506));
        assert_eq!(r.u64("d"), Ok(u64::MAX));
        assert_eq!(r.fixed::<4>("e"), Ok([9; 4]));
        assert_eq!(r.bytes("f", 3), Ok(&b"abc"[..]));
        assert_eq!(r.str("g", 6), Ok("数藏"));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn non_canonical_input_is_refused() {
        let mut r = Reader::new(&[0, 0, 0, 4, b'a']);
        assert_eq!(
            r.bytes("f", 10),
            Err(DecodeError::Truncated { at: 4, field: "f" })
        );
        let mut r = Reader::new(&[0, 0, 0, 4, 1, 2, 3, 4]);
        assert_eq!(
            r.bytes("f", 3),
            Err(DecodeError::TooLong {
                field: "f",
                len: 4,
                max: 3
            })
        );
        let mut r = Reader::new(&[0, 0, 0, 2, 0xff, 0xfe]);
        assert_eq!(r.str("s", 10), Err(DecodeError::InvalidUtf8 { field: "s" }));
        let mut r = Reader::new(&[1, 2]);
        r.u8("x").unwrap();
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes { extra: 1 }));
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert!(r.bytes("f", usize::MAX).is_err());
    }

    proptest! {
        #[test]
        fn reading_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&data);
            let _ = r.u16("a");
            let _ = r.str("b", 16);
            let _ = r.bytes("c", usize::MAX);
            let _ = r.u64("d");
            let _ = r.finish();
        }
    }
}
