//! Append-only segment files under the chain directory.
//!
//! A segment (`segment-00000000.log`, …) is a sequence of records:
//! `u32 length ‖ u32 CRC-32 of the payload ‖ payload`, big-endian. One record
//! per genesis or block, written with one `write` and made durable with
//! `fdatasync` before anyone is told. A new segment starts when the current
//! one would pass [`SEGMENT_BYTES_MAX`].
//!
//! On open, an incomplete record at the very end of the last segment (a
//! write cut short by a crash), or a run of zero bytes there (the trace of
//! a power loss after the file was extended but before the data reached
//! the disk), is a *torn tail*: it was never acknowledged, so it is cut off
//! and reported. A record is never empty, so zeros are never a record.
//! Anything else that does not check out — a bad checksum, an empty record,
//! a record in an earlier segment that runs past its end — is corruption,
//! reported with its file and offset and never skipped.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// A segment grows to about this size before the next one starts.
pub const SEGMENT_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Largest record payload (a block), in bytes.
pub const RECORD_BYTES_MAX: usize = 32 * 1024 * 1024;
const RECORD_HEADER_LEN: u64 = 8;

/// Where a record's payload lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordLocation {
    /// Segment number.
    pub segment: u32,
    /// Offset of the record header in the segment.
    pub offset: u64,
    /// Payload length.
    pub len: u32,
}

/// An incomplete last record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment file.
    pub path: PathBuf,
    /// Where the incomplete record starts.
    pub offset: u64,
    /// How many bytes it had.
    pub bytes: u64,
    /// Whether they were all zero (a power loss after the file grew).
    pub zero_filled: bool,
}

/// Why the segments could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An I/O operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the chain directory.
    #[error("{0} is in use by another shucang process (its LOCK file is held)")]
    Locked(PathBuf),
    /// A record does not check out.
    #[error("{path} at offset {offset}: {reason}")]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// The record's offset.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_owned(),
        source,
    }
}

fn segment_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("segment-{n:08}.log"))
}

/// Reads records anywhere in the segments; shared by queries.
#[derive(Debug)]
pub struct SegmentReader {
    dir: PathBuf,
    files: RwLock<Vec<Arc<File>>>,
}

impl SegmentReader {
    /// Reads a record's payload.
    pub fn read(&self, loc: RecordLocation) -> Result<Vec<u8>, StorageError> {
        let file = self
            .files
            .read()
            .expect("segment list lock")
            .get(loc.segment as usize)
            .cloned()
            .ok_or_else(|| StorageError::Corrupt {
                path: segment_path(&self.dir, loc.segment),
                offset: loc.offset,
                reason: "no such segment".into(),
            })?;
        let mut buf = vec![0u8; loc.len as usize];
        let path = segment_path(&self.dir, loc.segment);
        file.read_exact_at(&mut buf, loc.offset + RECORD_HEADER_LEN)
            .map_err(io_err(&path))?;
        Ok(buf)
    }
}

/// Appends records to the last segment. Holds an exclusive lock on the
/// directory, so two processes never write one chain.
#[derive(Debug)]
pub struct SegmentWriter {
    _lock: File,
    dir: PathBuf,
    segment: u32,
    file: File,
    len: u64,
    reader: Arc<SegmentReader>,
}

impl SegmentWriter {
    /// Appends one record and makes it durable; returns where it is.
    pub fn append(&mut self, payload: &[u8]) -> Result<RecordLocation, StorageError> {
        assert!(
            payload.len() <= RECORD_BYTES_MAX,
            "callers bound record sizes"
        );
        let record_len = RECORD_HEADER_LEN + payload.len() as u64;
        if self.len > 0 && self.len + record_len > SEGMENT_BYTES_MAX {
            self.roll()?;
        }
        let mut record = Vec::with_capacity(record_len as usize);
        record.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        record.extend_from_slice(&crc32fast::hash(payload).to_be_bytes());
        record.extend_from_slice(payload);
        let path = segment_path(&self.dir, self.segment);
        self.file.write_all(&record).map_err(io_err(&path))?;
        self.file.sync_data().map_err(io_err(&path))?;
        let loc = RecordLocation {
            segment: self.segment,
            offset: self.len,
            len: payload.len() as u32,
        };
        self.len += record_len;
        Ok(loc)
    }

    fn roll(&mut self) -> Result<(), StorageError> {
        let next = self.segment + 1;
        let path = segment_path(&self.dir, next);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        sync_dir(&self.dir)?;
        let read = File::open(&path).map_err(io_err(&path))?;
        self.reader
            .files
            .write()
            .expect("segment list lock")
            .push(Arc::new(read));
        self.segment = next;
        self.file = file;
        self.len = 0;
        Ok(())
    }

    /// The reader over the same segments.
    pub fn reader(&self) -> Arc<SegmentReader> {
        self.reader.clone()
    }
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// What scanning found wrong that the caller may handle: a visitor's own
/// error, or a storage error.
#[derive(Debug, thiserror::Error)]
pub enum ScanError<E> {
    /// Reading the segments failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The visitor refused a record.
    #[error("{path} at offset {offset}: {error}")]
    Visit {
        /// The segment file.
        path: PathBuf,
        /// The record's offset.
        offset: u64,
        /// The visitor's error.
        error: E,
    },
}

/// The segment numbers present in `dir`, in order; they must be 0, 1, 2…
fn list_segments(dir: &Path) -> Result<Vec<u32>, StorageError> {
    let mut numbers = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(n) = name
            .strip_prefix("segment-")
            .and_then(|r| r.strip_suffix(".log"))
        {
            let n: u32 = n.parse().map_err(|_| StorageError::Corrupt {
                path: entry.path(),
                offset: 0,
                reason: "unexpected segment file name".into(),
            })?;
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    for (i, n) in numbers.iter().enumerate() {
        if *n as usize != i {
            return Err(StorageError::Corrupt {
                path: segment_path(dir, i as u32),
                offset: 0,
                reason: "segment missing".into(),
            });
        }
    }
    Ok(numbers)
}

/// Reads every record of every segment in order, calling `visit` with each
/// payload. Returns the end of the last whole record in the last segment
/// and the torn tail after it, if any. Changes nothing.
pub fn scan<E>(
    dir: &Path,
    mut visit: impl FnMut(RecordLocation, &[u8]) -> Result<(), E>,
) -> Result<(Vec<u32>, u64, Option<TornTail>), ScanError<E>> {
    let segments = list_segments(dir)?;
    let mut end = 0;
    let mut torn = None;
    for (i, &n) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let path = segment_path(dir, n);
        let mut data = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut data))
            .map_err(io_err(&path))?;
        let mut pos = 0u64;
        while pos < data.len() as u64 {
            let rest = &data[pos as usize..];
            let corrupt = |reason: &str| StorageError::Corrupt {
                path: path.clone(),
                offset: pos,
                reason: reason.to_owned(),
            };
            let zero_filled = rest.iter().all(|&b| b == 0);
            let incomplete = zero_filled || rest.len() < RECORD_HEADER_LEN as usize || {
                let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as u64;
                len > RECORD_BYTES_MAX as u64 || rest.len() as u64 - RECORD_HEADER_LEN < len
            };
            if incomplete {
                if let Some(whole) = whole_record_under_damaged_length(rest) {
                    let reason = format!(
                        "the record's length field is damaged: a whole record of {whole} bytes is there"
                    );
                    return Err(corrupt(&reason).into());
                }
                if last {
                    torn = Some(TornTail {
                        path: path.clone(),
                        offset: pos,
                        bytes: rest.len() as u64,
                        zero_filled,
                    });
                    break;
                }
                return Err(corrupt("record runs past the end of a closed segment").into());
            }
            let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes"));
            if len == 0 {
                return Err(corrupt("empty record").into());
            }
            let crc = u32::from_be_bytes(rest[4..8].try_into().expect("4 bytes"));
            let payload = &rest[8..8 + len as usize];
            if crc32fast::hash(payload) != crc {
                return Err(corrupt("checksum mismatch").into());
            }
            let loc = RecordLocation {
                segment: n,
                offset: pos,
                len,
            };
            visit(loc, payload).map_err(|error| ScanError::Visit {
                path: path.clone(),
                offset: pos,
                error,
            })?;
            pos += RECORD_HEADER_LEN + len as u64;
        }
        if last {
            end = pos;
        }
    }
    Ok((segments, end, torn))
}

/// Whether `rest` — a record that claims to run past the end of the data —
/// is in fact a whole record whose length field was damaged: a prefix of
/// its payload has the stored CRC-32 and is followed by the end of the data
/// or by a plausible record header. Its payload length if so. A write cut
/// short holds only a prefix of its record, whose checksum cannot match, so
/// this tells a torn tail (cut) from damage (reported, never cut).
fn whole_record_under_damaged_length(rest: &[u8]) -> Option<usize> {
    if rest.len() <= RECORD_HEADER_LEN as usize {
        return None;
    }
    let stored = u32::from_be_bytes(rest[4..8].try_into().expect("4 bytes"));
    let payload = &rest[RECORD_HEADER_LEN as usize..];
    let plausible_header = |after: &[u8]| {
        after.len() >= RECORD_HEADER_LEN as usize && {
            let len = u32::from_be_bytes(after[..4].try_into().expect("4 bytes")) as usize;
            (1..=RECORD_BYTES_MAX).contains(&len) && len <= after.len() - RECORD_HEADER_LEN as usize
        }
    };
    let mut crc = crc32fast::Hasher::new();
    for (i, byte) in payload.iter().take(RECORD_BYTES_MAX).enumerate() {
        crc.update(std::slice::from_ref(byte));
        if crc.clone().finalize() == stored {
            let after = &payload[i + 1..];
            if after.is_empty() || plausible_header(after) {
                return Some(i + 1);
            }
        }
    }
    None
}

/// Opens (creating if needed) the segments in `dir`: scans them with
/// `visit`, cuts a torn tail (reported in the result), and returns a writer
/// positioned at the end.
pub fn open<E>(
    dir: &Path,
    visit: impl FnMut(RecordLocation, &[u8]) -> Result<(), E>,
) -> Result<(SegmentWriter, Option<TornTail>), ScanError<E>> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let lock_path = dir.join("LOCK");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(StorageError::Locked(dir.to_owned()).into());
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e).into()),
    }
    if list_segments(dir)?.is_empty() {
        let path = segment_path(dir, 0);
        File::create(&path).map_err(io_err(&path))?;
        sync_dir(dir)?;
    }
    let (segments, end, torn) = scan(dir, visit)?;
    let last = *segments.last().expect("at least one segment exists");
    let path = segment_path(dir, last);
    if torn.is_some() {
        let f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        f.set_len(end).map_err(io_err(&path))?;
        f.sync_all().map_err(io_err(&path))?;
    }
    let mut files = Vec::with_capacity(segments.len());
    for &n in &segments {
        let p = segment_path(dir, n);
        files.push(Arc::new(File::open(&p).map_err(io_err(&p))?));
    }
    let file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io_err(&path))?;
    let reader = Arc::new(SegmentReader {
        dir: dir.to_owned(),
        files: RwLock::new(files),
    });
    Ok((
        SegmentWriter {
            _lock: lock,
            dir: dir.to_owned(),
            segment: last,
            file,
            len: end,
            reader,
        },
        torn,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(dir: &Path) -> Result<Vec<Vec<u8>>, ScanError<String>> {
        let mut out = Vec::new();
        scan(dir, |_, p| {
            out.push(p.to_vec());
            Ok::<(), String>(())
        })?;
        Ok(out)
    }

    fn reopen(dir: &Path) -> (SegmentWriter, Option<TornTail>, Vec<Vec<u8>>) {
        let mut out = Vec::new();
        let (w, torn) = open(dir, |_, p| {
            out.push(p.to_vec());
            Ok::<(), ()>(())
        })
        .unwrap();
        (w, torn, out)
    }

    #[test]
    fn append_read_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, torn, seen) = reopen(dir.path());
        assert!(torn.is_none() && seen.is_empty());
        let a = w.append(b"first").unwrap();
        let b = w.append(b"second").unwrap();
        assert_eq!(w.reader().read(a).unwrap(), b"first");
        assert_eq!(w.reader().read(b).unwrap(), b"second");
        drop(w);
        let (_, torn, seen) = reopen(dir.path());
        assert!(torn.is_none());
        assert_eq!(seen, vec![b"first".to_vec(), b"second".to_vec()]);
    }

    /// A segment holding `records`, then the bytes `tail`: the directory,
    /// the segment and its length before the tail.
    fn segment_with(records: &[&[u8]], tail: &[u8]) -> (tempfile::TempDir, PathBuf, u64) {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _, _) = reopen(dir.path());
        for r in records {
            w.append(r).unwrap();
        }
        drop(w);
        let path = segment_path(dir.path(), 0);
        let good_len = fs::metadata(&path).unwrap().len();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(tail).unwrap();
        drop(f);
        (dir, path, good_len)
    }

    /// Opening `dir` refuses corruption: its offset and reason.
    fn refused_as_corrupt(dir: &Path) -> (u64, String) {
        match open(dir, |_, _| Ok::<(), String>(())) {
            Err(ScanError::Storage(StorageError::Corrupt { offset, reason, .. })) => {
                (offset, reason)
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("opened over corruption"),
        }
    }

    #[test]
    fn a_torn_tail_is_cut_and_reported() {
        // A record header promising 100 bytes, followed by only 3.
        let tail = [0, 0, 0, 100, 1, 2, 3, 4, b'a', b'b', b'c'];
        let (dir, path, good_len) = segment_with(&[b"whole"], &tail);
        let (mut w, torn, seen) = reopen(dir.path());
        assert_eq!(
            torn,
            Some(TornTail {
                path: path.clone(),
                offset: good_len,
                bytes: 11,
                zero_filled: false,
            })
        );
        assert_eq!(seen, vec![b"whole".to_vec()]);
        assert_eq!(fs::metadata(&path).unwrap().len(), good_len);
        w.append(b"after").unwrap();
        drop(w);
        assert_eq!(
            collect(dir.path()).unwrap(),
            vec![b"whole".to_vec(), b"after".to_vec()]
        );
        // Half a header is a torn tail too.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0, 0]).unwrap();
        drop(f);
        let (_, torn, _) = reopen(dir.path());
        assert_eq!(torn.unwrap().bytes, 2);
    }

    #[test]
    fn a_zero_filled_tail_of_any_length_is_cut_and_reported() {
        for zeros in [1usize, 7, 8, 9, 16, 4096, 100_000] {
            let (dir, path, good_len) = segment_with(&[b"one", b"two"], &vec![0; zeros]);
            let (_, torn, seen) = reopen(dir.path());
            let torn = torn.expect("a torn tail");
            assert_eq!(
                (torn.offset, torn.bytes, torn.zero_filled),
                (good_len, zeros as u64, true)
            );
            assert_eq!(
                seen,
                vec![b"one".to_vec(), b"two".to_vec()],
                "{zeros} zeros"
            );
            assert_eq!(fs::metadata(&path).unwrap().len(), good_len);
        }
    }

    #[test]
    fn a_damaged_length_is_corruption_never_a_torn_tail() {
        for (victim, records) in [(0usize, 3usize), (2, 3), (0, 1)] {
            let dir = tempfile::tempdir().unwrap();
            let (mut w, _, _) = reopen(dir.path());
            let mut locations = Vec::new();
            for n in 0..records {
                locations.push(w.append(format!("record {n}").as_bytes()).unwrap());
            }
            drop(w);
            let path = segment_path(dir.path(), 0);
            let mut bytes = fs::read(&path).unwrap();
            let at = locations[victim].offset as usize;
            // Claims more than is left: a torn tail by its length alone.
            bytes[at] ^= 0x01;
            fs::write(&path, &bytes).unwrap();
            let (offset, reason) = refused_as_corrupt(dir.path());
            assert_eq!(offset, at as u64, "record {victim} of {records}");
            assert!(reason.contains("length field is damaged"), "{reason}");
            assert_eq!(fs::read(&path).unwrap(), bytes, "nothing cut");
        }
    }

    #[test]
    fn zeros_followed_by_data_are_corruption_never_cut() {
        let (dir, path, good_len) = segment_with(&[b"one"], &[0, 0, 0, 0, 0, 0, 0, 0, 7]);
        let (offset, reason) = refused_as_corrupt(dir.path());
        assert_eq!((offset, reason.as_str()), (good_len, "empty record"));
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            good_len + 9,
            "nothing cut"
        );
    }

    #[test]
    fn a_changed_byte_is_corruption_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _, _) = reopen(dir.path());
        w.append(b"one").unwrap();
        let second = w.append(b"two").unwrap();
        w.append(b"three").unwrap();
        drop(w);
        let path = segment_path(dir.path(), 0);
        let mut bytes = fs::read(&path).unwrap();
        bytes[(second.offset + 9) as usize] ^= 0x20;
        fs::write(&path, &bytes).unwrap();
        let err = collect(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("at offset {}", second.offset)) && err.contains("checksum"),
            "{err}"
        );
        let mut seen = 0;
        let opened = open(dir.path(), |_, _| {
            seen += 1;
            Ok::<(), ()>(())
        });
        assert!(
            opened.is_err(),
            "open refuses a corrupt record, it does not cut it"
        );
        assert_eq!(fs::read(&path).unwrap(), bytes, "nothing was changed");
    }

    #[test]
    fn one_writer_per_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (w, _, _) = reopen(dir.path());
        let second = open(dir.path(), |_, _| Ok::<(), ()>(()));
        assert!(matches!(
            second,
            Err(ScanError::Storage(StorageError::Locked(_)))
        ));
        drop(w);
        reopen(dir.path());
    }

    #[test]
    fn segments_roll_over_and_stay_readable() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, _, _) = reopen(dir.path());
        let big = vec![7u8; (SEGMENT_BYTES_MAX / 3) as usize];
        let locs: Vec<_> = (0..4).map(|_| w.append(&big).unwrap()).collect();
        assert!(locs.last().unwrap().segment >= 1);
        for loc in &locs {
            assert_eq!(w.reader().read(*loc).unwrap().len(), big.len());
        }
        drop(w);
        assert_eq!(collect(dir.path()).unwrap().len(), 4);
        // A missing middle segment is refused.
        fs::remove_file(segment_path(dir.path(), 0)).unwrap();
        assert!(collect(dir.path()).is_err());
    }
}
