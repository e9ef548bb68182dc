//! The compact on-disk form of the 2.6 million full GB postcodes.
//!
//! The ONSPD extract is 80 MB as CSV. Packed, each postcode costs about four bytes before
//! gzip: entries are grouped by outward code, the inward code is a `u16`, and coordinates are
//! zig-zag varint deltas (in 1e-5 degree steps, about 1 m) from the previous postcode, which in
//! sort order is nearly always a neighbour. The format is private to this crate: it is written
//! by [`pack_postcodes`] and read by [`PackedPostcodes::decode`], and a test round-trips it.
use std::io::{Read, Write};

use crate::error::{PostcodeError, Result};

const MAGIC: &[u8] = b"SPPC1\n";
const NO_LOCATION: u16 = 0x8000;
const SCALE: f64 = 1e5;

/// Counts reported by [`pack_postcodes`], for BENCHMARKS.md and the data README.
#[derive(Debug, Clone, Copy, Default)]
pub struct PackStats {
    /// Postcodes written.
    pub postcodes: usize,
    /// Of those, how many have no location.
    pub without_location: usize,
    /// Bytes of the gzip output.
    pub packed_bytes: usize,
}

fn inward_index(inward: &[u8]) -> Option<u16> {
    match inward {
        [d, x, y] if d.is_ascii_digit() && x.is_ascii_uppercase() && y.is_ascii_uppercase() => {
            Some((d - b'0') as u16 * 676 + (x - b'A') as u16 * 26 + (y - b'A') as u16)
        }
        _ => None,
    }
}

fn inward_text(index: u16) -> [u8; 3] {
    [
        b'0' + (index / 676) as u8,
        b'A' + (index / 26 % 26) as u8,
        b'A' + (index % 26) as u8,
    ]
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn bad(message: impl Into<String>) -> PostcodeError {
    PostcodeError::BadTable {
        what: "packed postcodes".into(),
        message: message.into(),
    }
}

/// (outward code, inward index, location in 1e-5 degrees).
type SourceRow = (String, u16, Option<(i64, i64)>);

/// Pack an ONSPD-style CSV (`postcode,latitude,longitude,...`, postcode as "OUT IN") into the
/// compact gzip form. Rows whose postcode does not parse are an error naming the row, so a bad
/// source is noticed when the data is regenerated, not when a user searches.
pub fn pack_postcodes(csv_source: impl Read) -> Result<(Vec<u8>, PackStats)> {
    let mut reader = csv::Reader::from_reader(csv_source);
    let mut rows: Vec<SourceRow> = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("row {}: {e}", n + 2)))?;
        let postcode = record.get(0).unwrap_or_default();
        let (outward, inward) = postcode
            .split_once(' ')
            .ok_or_else(|| bad(format!("row {}: postcode {postcode:?} has no space", n + 2)))?;
        let inward = inward_index(inward.as_bytes())
            .ok_or_else(|| bad(format!("row {}: inward code {inward:?}", n + 2)))?;
        let coord = |i: usize| record.get(i).and_then(|v| v.parse::<f64>().ok());
        let location = match (coord(1), coord(2)) {
            (Some(lat), Some(lon)) if !(lat == 0.0 && lon == 0.0) => {
                Some(((lat * SCALE).round() as i64, (lon * SCALE).round() as i64))
            }
            _ => None,
        };
        rows.push((outward.to_string(), inward, location));
    }
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    rows.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);

    let mut raw = MAGIC.to_vec();
    let districts = rows.chunk_by(|a, b| a.0 == b.0).count();
    put_varint(&mut raw, districts as u64);
    let mut stats = PackStats::default();
    let (mut prev_lat, mut prev_lon) = (0i64, 0i64);
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        put_varint(&mut raw, group[0].0.len() as u64);
        raw.extend_from_slice(group[0].0.as_bytes());
        put_varint(&mut raw, group.len() as u64);
        for (_, inward, location) in group {
            stats.postcodes += 1;
            match location {
                None => {
                    stats.without_location += 1;
                    raw.extend_from_slice(&(inward | NO_LOCATION).to_le_bytes());
                }
                Some((lat, lon)) => {
                    raw.extend_from_slice(&inward.to_le_bytes());
                    put_varint(&mut raw, zigzag(lat - prev_lat));
                    put_varint(&mut raw, zigzag(lon - prev_lon));
                    (prev_lat, prev_lon) = (*lat, *lon);
                }
            }
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&raw).map_err(|e| bad(e.to_string()))?;
    let packed = gz.finish().map_err(|e| bad(e.to_string()))?;
    stats.packed_bytes = packed.len();
    Ok((packed, stats))
}

/// Decoded full postcodes, searchable by binary search. About 10 bytes a postcode in memory.
#[derive(Debug, Default)]
pub struct PackedPostcodes {
    /// Outward codes in sorted order, each with its range in `entries`.
    districts: Vec<(String, std::ops::Range<usize>)>,
    /// (inward index, lat, lon) in 1e-5 degrees; `i32::MIN` latitude means no location.
    entries: Vec<(u16, i32, i32)>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at).ok_or_else(|| bad("truncated"))?;
            self.at += 1;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(bad("varint too long"))
    }
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let s = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or_else(|| bad("truncated"))?;
        self.at += n;
        Ok(s)
    }
}

impl PackedPostcodes {
    /// Decode the gzip form written by [`pack_postcodes`].
    pub fn decode(packed: &[u8]) -> Result<Self> {
        let mut raw = Vec::with_capacity(packed.len() * 3);
        flate2::read::GzDecoder::new(packed)
            .read_to_end(&mut raw)
            .map_err(|e| bad(e.to_string()))?;
        if !raw.starts_with(MAGIC) {
            return Err(bad("not a Signpost postcode pack"));
        }
        let mut c = Cursor {
            bytes: &raw,
            at: MAGIC.len(),
        };
        let n_districts = c.varint()? as usize;
        let mut out = PackedPostcodes {
            districts: Vec::with_capacity(n_districts),
            entries: Vec::with_capacity(raw.len() / 4),
        };
        let (mut lat, mut lon) = (0i64, 0i64);
        for _ in 0..n_districts {
            let len = c.varint()? as usize;
            let name =
                String::from_utf8(c.take(len)?.to_vec()).map_err(|_| bad("district name"))?;
            let count = c.varint()? as usize;
            let start = out.entries.len();
            for _ in 0..count {
                let code = u16::from_le_bytes(c.take(2)?.try_into().expect("two bytes"));
                if code & NO_LOCATION != 0 {
                    out.entries.push((code & !NO_LOCATION, i32::MIN, 0));
                } else {
                    lat += unzigzag(c.varint()?);
                    lon += unzigzag(c.varint()?);
                    out.entries.push((code, lat as i32, lon as i32));
                }
            }
            out.districts.push((name, start..out.entries.len()));
        }
        Ok(out)
    }

    /// How many postcodes are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no postcode is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Look up a full postcode: `None` if unknown, `Some(None)` if known without a location.
    pub fn get(&self, outward: &str, inward: &str) -> Option<Option<(f64, f64)>> {
        let code = inward_index(inward.as_bytes())?;
        let d = self
            .districts
            .binary_search_by(|(name, _)| name.as_str().cmp(outward))
            .ok()?;
        let entries = &self.entries[self.districts[d].1.clone()];
        let i = entries.binary_search_by_key(&code, |e| e.0).ok()?;
        let (_, lat, lon) = entries[i];
        Some((lat != i32::MIN).then(|| (lat as f64 / SCALE, lon as f64 / SCALE)))
    }

    /// Every postcode, for tests and data checks: ("OUT IN", location).
    pub fn iter(&self) -> impl Iterator<Item = (String, Option<(f64, f64)>)> + '_ {
        self.districts.iter().flat_map(move |(outward, range)| {
            self.entries[range.clone()]
                .iter()
                .map(move |&(code, lat, lon)| {
                    let inward = inward_text(code);
                    let text = format!(
                        "{outward} {}",
                        std::str::from_utf8(&inward).unwrap_or("???")
                    );
                    (
                        text,
                        (lat != i32::MIN).then(|| (lat as f64 / SCALE, lon as f64 / SCALE)),
                    )
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_missing_locations() {
        let csv = "postcode,latitude,longitude,lad_code\n\
                   BS3 4AB,51.437760,-2.601440,E06000023\n\
                   AB1 0AA,57.101474,-2.242851,S12000033\n\
                   GY1 1AA,,,\n\
                   BS3 1AA,51.44,-2.60,E06000023\n";
        let (packed, stats) = pack_postcodes(csv.as_bytes()).unwrap();
        assert_eq!(stats.postcodes, 4);
        assert_eq!(stats.without_location, 1);
        let p = PackedPostcodes::decode(&packed).unwrap();
        assert_eq!(p.len(), 4);
        let (lat, lon) = p.get("AB1", "0AA").unwrap().unwrap();
        assert!((lat - 57.101474).abs() < 1e-5 && (lon + 2.242851).abs() < 1e-5);
        assert_eq!(p.get("GY1", "1AA"), Some(None));
        assert_eq!(p.get("BS3", "9ZZ"), None);
        assert_eq!(p.get("ZZ9", "1AA"), None);
        let all: Vec<_> = p.iter().map(|(pc, _)| pc).collect();
        assert_eq!(all, ["AB1 0AA", "BS3 1AA", "BS3 4AB", "GY1 1AA"]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(PackedPostcodes::decode(b"not gzip").is_err());
        assert!(pack_postcodes("postcode,latitude,longitude\nNOSPACE,1,1\n".as_bytes()).is_err());
    }
}
