//! Value formats shared by names and records: calendar months, dates, times, all on ASCII digits.

fn num(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

/// The number of days of the month `YYYYMM` (28–31); `None` when it is not a real month.
pub fn month_days(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if !is_year_month(b) {
        return None;
    }
    Some(days_in_month(num(&b[..4])?, num(&b[4..])?))
}

/// `YYYYMM` with a month 01–12 and a year from 1900.
pub fn is_year_month(b: &[u8]) -> bool {
    b.len() == 6
        && matches!((num(&b[..4]), num(&b[4..])), (Some(y), Some(m)) if y >= 1900 && (1..=12).contains(&m))
}

/// `YYYYMMDD`, a real calendar date (no 和暦, no 20230230).
pub fn is_date(b: &[u8]) -> bool {
    if b.len() != 8 {
        return false;
    }
    match (num(&b[..4]), num(&b[4..6]), num(&b[6..])) {
        (Some(y), Some(m), Some(d)) => {
            y >= 1900 && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
        }
        _ => false,
    }
}

/// `HHMM`, 00:00 to 23:59. 24:00 is accepted as the end of a service that runs to midnight.
pub fn is_time(b: &[u8]) -> bool {
    b.len() == 4
        && matches!((num(&b[..2]), num(&b[2..])), (Some(h), Some(m)) if (h < 24 && m < 60) || (h == 24 && m == 0))
}

/// `YYYYMMDDHHMMSS`, a real date and time (the sequence number of a set).
pub fn is_date_time(b: &[u8]) -> bool {
    b.len() == 14
        && is_date(&b[..8])
        && matches!((num(&b[8..10]), num(&b[10..12]), num(&b[12..])), (Some(h), Some(m), Some(sec)) if h < 24 && m < 60 && sec < 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_values_of_the_right_byte_length_are_not_dates() {
        // 8 and 14 bytes, with a character across the byte where a date or date-time is cut (found by fuzzing).
        for s in ["20250é1", "2025é01", "é250101"] {
            assert_eq!(s.len(), 8, "{s}");
            assert!(!is_date(s.as_bytes()), "{s}");
        }
        for s in ["20250101é1230", "202501é112300"] {
            assert_eq!(s.len(), 14, "{s}");
            assert!(!is_date_time(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn calendar() {
        for (s, ok) in [
            ("20240229", true),
            ("20230229", false),
            ("19000229", false),
            ("20000229", true),
            ("20241131", false),
            ("20241301", false),
            ("20241200", false),
            ("2024121", false),
            ("２0241201", false),
        ] {
            assert_eq!(is_date(s.as_bytes()), ok, "{s}");
        }
        for (s, ok) in [
            ("202412", true),
            ("202400", false),
            ("000000", false),
            ("189912", false),
        ] {
            assert_eq!(is_year_month(s.as_bytes()), ok, "{s}");
        }
        for (s, ok) in [
            ("0000", true),
            ("2359", true),
            ("2400", true),
            ("2401", false),
            ("1260", false),
            ("9999", false),
        ] {
            assert_eq!(is_time(s.as_bytes()), ok, "{s}");
        }
        assert!(is_date_time(b"20191025200201"));
        assert!(!is_date_time(b"20191025246001"));
        assert!(!is_date_time(b"201911110102233"));
    }
}
