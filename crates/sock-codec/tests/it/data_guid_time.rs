//! `DataWriter`/`DataReader` GUIDs, `DateTime`s and `TimeSpan`s: the bytes UWP
//! peers exchange (hand-computed vectors in both byte orders), round trips,
//! too few bytes loaded, and values out of range.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use sock_codec::{ByteOrder, DataReader, DataWriter, Error, Guid, TimeSpan};

const BE: ByteOrder = ByteOrder::BigEndian;
const LE: ByteOrder = ByteOrder::LittleEndian;

/// 6ba7b810-9dad-11d1-80b4-00c04fd430c8 (the RFC 4122 DNS namespace).
const DNS: Guid = Guid::new(
    0x6ba7_b810,
    0x9dad,
    0x11d1,
    [0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8],
);

fn written(order: ByteOrder, write: impl FnOnce(&mut DataWriter<sock_codec::NoStream>)) -> Bytes {
    let mut w = DataWriter::new_buffer();
    w.set_byte_order(order);
    write(&mut w);
    w.detach_buffer()
}

fn reader(order: ByteOrder, bytes: &[u8]) -> DataReader<sock_codec::NoStream> {
    let mut r = DataReader::from_buffer(Bytes::copy_from_slice(bytes));
    r.set_byte_order(order);
    r
}

#[test]
fn guid_numbers_follow_the_byte_order_and_data4_never_does() {
    let be = [
        0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    let le = [
        0x10, 0xb8, 0xa7, 0x6b, 0xad, 0x9d, 0xd1, 0x11, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    assert_eq!(&written(BE, |w| w.write_guid(DNS))[..], &be);
    assert_eq!(&written(LE, |w| w.write_guid(DNS))[..], &le);
    assert_eq!(DNS.to_bytes(), be, "big-endian is the text order");
    assert_eq!(reader(BE, &be).read_guid().unwrap(), DNS);
    assert_eq!(reader(LE, &le).read_guid().unwrap(), DNS);
    // Read in the other order, the numbers come out byte-swapped.
    let swapped = reader(LE, &be).read_guid().unwrap();
    assert_eq!(swapped.to_string(), "10b8a76b-ad9d-d111-80b4-00c04fd430c8");
}

#[test]
fn guid_text_is_the_canonical_form_and_parses_back() {
    assert_eq!(DNS.to_string(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    assert_eq!(
        "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"
            .parse::<Guid>()
            .unwrap(),
        DNS
    );
    assert_eq!(
        "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}"
            .parse::<Guid>()
            .unwrap(),
        DNS
    );
    assert_eq!(
        Guid::NIL.to_string(),
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(Guid::from_bytes(DNS.to_bytes()), DNS);
    for bad in [
        "",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c",
        "6ba7b8109dad11d180b400c04fd430c8",
        "6ba7b810-9dad-11d1-80b4-00c04fd430cg",
        "{6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "+ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "6ba7b810-9dad-11d1-80b4-00c04fd430é",
    ] {
        let err = bad.parse::<Guid>().unwrap_err();
        assert!(matches!(err, Error::InvalidData { .. }), "{bad:?}: {err:?}");
        assert!(err.to_string().contains("invalid guid"), "{err}");
    }
}

#[test]
fn date_time_is_ticks_since_1601_in_the_byte_order() {
    // 1970-01-01 is 116444736000000000 = 0x019d_b1de_d53e_8000 ticks after 1601.
    let be = [0x01, 0x9d, 0xb1, 0xde, 0xd5, 0x3e, 0x80, 0x00];
    let mut le = be;
    le.reverse();
    assert_eq!(
        &written(BE, |w| w.write_date_time(UNIX_EPOCH).unwrap())[..],
        &be
    );
    assert_eq!(
        &written(LE, |w| w.write_date_time(UNIX_EPOCH).unwrap())[..],
        &le
    );
    assert_eq!(reader(BE, &be).read_date_time().unwrap(), UNIX_EPOCH);
    assert_eq!(reader(LE, &le).read_date_time().unwrap(), UNIX_EPOCH);
    // Tick 0 is 1601-01-01, 11644473600 seconds before 1970.
    assert_eq!(
        reader(BE, &[0; 8]).read_date_time().unwrap(),
        UNIX_EPOCH - Duration::from_secs(11_644_473_600)
    );
}

#[test]
fn date_times_round_trip_to_the_tick_rounding_down() {
    let cases = [
        // (time written, time read back)
        (
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_700),
        ),
        // Before 1970 rounds down too: towards the past.
        (
            UNIX_EPOCH - Duration::from_nanos(150),
            UNIX_EPOCH - Duration::from_nanos(200),
        ),
        (
            UNIX_EPOCH - Duration::from_secs(11_644_473_600) - Duration::from_secs(86_400),
            UNIX_EPOCH - Duration::from_secs(11_644_473_600) - Duration::from_secs(86_400),
        ),
    ];
    for order in [BE, LE] {
        for (time, back) in cases {
            let bytes = written(order, |w| w.write_date_time(time).unwrap());
            assert_eq!(bytes.len(), 8);
            assert_eq!(reader(order, &bytes).read_date_time().unwrap(), back);
        }
        // Every tick count is a time (on Linux) that writes back to the same
        // bytes, the extremes included.
        for ticks in [i64::MIN, -1, 1, i64::MAX] {
            let bytes = written(order, |w| w.write_i64(ticks));
            let time = reader(order, &bytes).read_date_time().unwrap();
            assert_eq!(written(order, |w| w.write_date_time(time).unwrap()), bytes);
        }
    }
}

#[test]
fn date_times_outside_an_i64_of_ticks_are_refused_and_write_nothing() {
    let far = Duration::from_secs(1_000_000_000_000); // about 31,700 years
    for time in [UNIX_EPOCH + far, UNIX_EPOCH - far] {
        let mut w = DataWriter::new_buffer();
        let err = w.write_date_time(time).unwrap_err();
        assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
        assert!(err.to_string().contains("date_time"), "{err}");
        assert_eq!(w.unstored_buffer_length(), 0);
    }
    // Just inside still works.
    let last = UNIX_EPOCH + Duration::from_secs(900_000_000_000);
    let bytes = written(BE, |w| w.write_date_time(last).unwrap());
    assert_eq!(reader(BE, &bytes).read_date_time().unwrap(), last);
}

#[test]
fn time_span_is_a_signed_tick_count_in_the_byte_order() {
    let second = TimeSpan::try_from(Duration::from_secs(1)).unwrap();
    assert_eq!(second.ticks(), 10_000_000);
    let be = [0, 0, 0, 0, 0, 0x98, 0x96, 0x80];
    let le = [0x80, 0x96, 0x98, 0, 0, 0, 0, 0];
    assert_eq!(&written(BE, |w| w.write_time_span(second))[..], &be);
    assert_eq!(&written(LE, |w| w.write_time_span(second))[..], &le);
    assert_eq!(reader(BE, &be).read_time_span().unwrap(), second);
    assert_eq!(reader(LE, &le).read_time_span().unwrap(), second);

    // Negative spans are kept exactly.
    let minus_one = TimeSpan::from_ticks(-1);
    assert_eq!(
        &written(LE, |w| w.write_time_span(minus_one))[..],
        &[0xff; 8]
    );
    for order in [BE, LE] {
        for span in [TimeSpan::MIN, minus_one, TimeSpan::ZERO, TimeSpan::MAX] {
            let bytes = written(order, |w| w.write_time_span(span));
            assert_eq!(reader(order, &bytes).read_time_span().unwrap(), span);
        }
    }
}

#[test]
fn time_spans_convert_to_and_from_durations_or_say_why_not() {
    assert_eq!(
        TimeSpan::try_from(Duration::from_nanos(1_234)).unwrap(),
        TimeSpan::from_ticks(12),
        "below a tick is dropped"
    );
    assert_eq!(
        Duration::try_from(TimeSpan::from_ticks(12_345_678_901)).unwrap(),
        Duration::new(1_234, 567_890_100)
    );
    let max = Duration::try_from(TimeSpan::MAX).unwrap();
    assert_eq!(TimeSpan::try_from(max).unwrap(), TimeSpan::MAX);

    let err = TimeSpan::try_from(Duration::MAX).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
    assert!(err.to_string().contains("time_span"), "{err}");
    let err = Duration::try_from(TimeSpan::from_ticks(-1)).unwrap_err();
    assert!(err.to_string().contains("negative"), "{err}");
    assert!(TimeSpan::from_ticks(-1).is_negative());
}

#[test]
fn too_few_bytes_loaded_is_unexpected_eof_and_consumes_nothing() {
    let mut r = reader(BE, &[0; 15]);
    let err = r.read_guid().unwrap_err();
    assert!(matches!(err, Error::UnexpectedEof { .. }), "{err:?}");
    assert!(err
        .to_string()
        .contains("read_guid needs 16 bytes, 15 loaded"));
    assert_eq!(r.unconsumed_buffer_length(), 15);

    let mut r = reader(LE, &[0; 7]);
    let err = r.read_date_time().unwrap_err();
    assert!(err
        .to_string()
        .contains("read_date_time needs 8 bytes, 7 loaded"));
    let err = r.read_time_span().unwrap_err();
    assert!(err
        .to_string()
        .contains("read_time_span needs 8 bytes, 7 loaded"));
    assert_eq!(r.unconsumed_buffer_length(), 7);
}

#[test]
fn values_mix_with_the_other_writes_in_one_stream() {
    let now = SystemTime::now();
    let span = TimeSpan::from_ticks(-42);
    for order in [BE, LE] {
        let bytes = written(order, |w| {
            w.write_u8(7);
            w.write_guid(DNS);
            w.write_date_time(now).unwrap();
            w.write_time_span(span);
            w.write_u16(9);
        });
        assert_eq!(bytes.len(), 1 + 16 + 8 + 8 + 2);
        let mut r = reader(order, &bytes);
        assert_eq!(r.read_u8().unwrap(), 7);
        assert_eq!(r.read_guid().unwrap(), DNS);
        let back = r.read_date_time().unwrap();
        assert!(now.duration_since(back).unwrap() < Duration::from_nanos(100));
        assert_eq!(r.read_time_span().unwrap(), span);
        assert_eq!(r.read_u16().unwrap(), 9);
    }
}
