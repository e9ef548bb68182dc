//! Parsing and normalising UK postcodes to the Royal Mail format.
//!
//! The format is an outward code (`A9`, `A99`, `AA9`, `AA99`, `A9A`, `AA9A`) and an inward
//! code (`9AA`), separated by one space. A sector is the outward code plus the inward digit
//! (`BS3 4`), a district is the outward code alone (`BS3`). Without a space, `BS34` is read as
//! a district and `BS34AB` as a full postcode, since that is how people type them.
use crate::error::{PostcodeError, Result};

/// What a user's postcode text denotes, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PostcodeQuery {
    /// A full postcode such as `BS3 4AB`.
    Full {
        /// Outward code, e.g. `BS3`.
        outward: String,
        /// Inward code, e.g. `4AB`.
        inward: String,
    },
    /// A sector such as `BS3 4`.
    Sector {
        /// Outward code.
        outward: String,
        /// The sector digit.
        digit: u8,
    },
    /// A district (outward code) such as `BS3`.
    District {
        /// Outward code.
        outward: String,
    },
}

impl std::fmt::Display for PostcodeQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostcodeQuery::Full { outward, inward } => write!(f, "{outward} {inward}"),
            PostcodeQuery::Sector { outward, digit } => write!(f, "{outward} {digit}"),
            PostcodeQuery::District { outward } => f.write_str(outward),
        }
    }
}

fn is_outward(s: &[u8]) -> bool {
    let a = |c: &u8| c.is_ascii_uppercase();
    let d = |c: &u8| c.is_ascii_digit();
    let an = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    match s {
        // GIR is the one historic non-standard outward code (GIR 0AA, Girobank).
        [b'G', b'I', b'R'] => true,
        [x, y] => a(x) && d(y),
        [x, y, z] => (a(x) && d(y) && an(z)) || (a(x) && a(y) && d(z)),
        [w, x, y, z] => a(w) && a(x) && d(y) && an(z),
        _ => false,
    }
}

fn is_inward(s: &[u8]) -> bool {
    matches!(s, [d, x, y] if d.is_ascii_digit() && x.is_ascii_uppercase() && y.is_ascii_uppercase())
}

/// Parse what a person typed into a normalised postcode, sector or district.
pub fn parse(input: &str) -> Result<PostcodeQuery> {
    let malformed = || PostcodeError::Malformed {
        input: input.to_string(),
    };
    let upper = input.trim().to_ascii_uppercase();
    let parts: Vec<&str> = upper.split_whitespace().collect();
    match parts.as_slice() {
        [outward, rest] => {
            if !is_outward(outward.as_bytes()) {
                return Err(malformed());
            }
            let rest = rest.as_bytes();
            if rest.len() == 1 && rest[0].is_ascii_digit() {
                Ok(PostcodeQuery::Sector {
                    outward: outward.to_string(),
                    digit: rest[0] - b'0',
                })
            } else if is_inward(rest) {
                Ok(PostcodeQuery::Full {
                    outward: outward.to_string(),
                    inward: String::from_utf8_lossy(rest).into_owned(),
                })
            } else {
                Err(malformed())
            }
        }
        [joined] => {
            let b = joined.as_bytes();
            if is_outward(b) {
                return Ok(PostcodeQuery::District {
                    outward: joined.to_string(),
                });
            }
            if b.len() >= 5 && is_inward(&b[b.len() - 3..]) && is_outward(&b[..b.len() - 3]) {
                return Ok(PostcodeQuery::Full {
                    outward: joined[..b.len() - 3].to_string(),
                    inward: joined[b.len() - 3..].to_string(),
                });
            }
            Err(malformed())
        }
        _ => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        parse(s).unwrap().to_string()
    }

    #[test]
    fn normalises_case_and_spacing() {
        assert_eq!(norm("bs34 1ab"), "BS34 1AB");
        assert_eq!(norm("BS3  4AB"), "BS3 4AB");
        assert_eq!(norm(" sw1a1aa "), "SW1A 1AA");
        assert_eq!(norm("m11ae"), "M1 1AE");
        assert_eq!(norm("ec1a 1bb"), "EC1A 1BB");
        assert_eq!(norm("W1A 0AX"), "W1A 0AX");
    }

    #[test]
    fn tells_sector_from_district() {
        assert_eq!(
            parse("bs3 4").unwrap(),
            PostcodeQuery::Sector {
                outward: "BS3".into(),
                digit: 4
            }
        );
        assert_eq!(
            parse("BS34").unwrap(),
            PostcodeQuery::District {
                outward: "BS34".into()
            }
        );
        assert_eq!(norm("gir"), "GIR");
    }

    #[test]
    fn rejects_what_is_not_a_postcode() {
        for bad in [
            "",
            "hello",
            "12345",
            "BS3 4A",
            "BS3 4ABC",
            "B 4AB",
            "BS3 4AB X",
            "ABCDE 1AA",
        ] {
            assert!(
                matches!(parse(bad), Err(PostcodeError::Malformed { .. })),
                "{bad:?} should be malformed"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(s in "\\PC{0,12}") {
            if let Ok(q) = parse(&s) {
                proptest::prop_assert_eq!(parse(&q.to_string()).unwrap(), q);
            }
        }
    }
}
