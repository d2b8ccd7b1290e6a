//! Planning a batched send: which datagrams go out together as one GSO
//! message, and the limits that bound a message.

/// One message to send: datagrams `start..end` of a batch, and, when there is
/// more than one, the segment size that lets the kernel split them (GSO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transmit {
    /// First datagram of the batch in this message.
    pub(crate) start: usize,
    /// One past the last datagram.
    pub(crate) end: usize,
    /// The GSO segment size, when `end - start > 1`.
    pub(crate) segment: Option<usize>,
}

/// The most payload bytes one segmented (GSO) message may carry: under the
/// 65,507 bytes an IPv4 datagram can hold, with room to spare.
pub(crate) const MAX_GSO_BYTES: usize = 65_000;

/// Splits datagrams of the given sizes into messages.
///
/// With `max_segments > 1`, consecutive datagrams of one size go out as one
/// segmented message (the kernel cuts it back into datagrams), as GSO
/// requires: every segment the size of the first, except the last, which may
/// be shorter and then ends the message. Empty datagrams always go alone.
pub(crate) fn plan(sizes: &[usize], max_segments: usize, max_bytes: usize) -> Vec<Transmit> {
    let mut out = Vec::with_capacity(sizes.len() / max_segments.max(1) + 1);
    let mut start = 0;
    while start < sizes.len() {
        let segment = sizes[start];
        let mut end = start + 1;
        let mut total = segment;
        if segment > 0 {
            while end < sizes.len() && end - start < max_segments {
                let size = sizes[end];
                if size == 0 || size > segment || total + size > max_bytes {
                    break;
                }
                total += size;
                end += 1;
                if size < segment {
                    break;
                }
            }
        }
        out.push(Transmit {
            start,
            end,
            segment: (end - start > 1).then_some(segment),
        });
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(plan: &[Transmit]) -> Vec<(usize, usize, Option<usize>)> {
        plan.iter().map(|t| (t.start, t.end, t.segment)).collect()
    }

    #[test]
    fn equal_sizes_are_grouped_up_to_the_segment_limit() {
        let sizes = vec![1200; 130];
        assert_eq!(
            shape(&plan(&sizes, 64, MAX_GSO_BYTES)),
            // 54 × 1200 = 64,800 bytes fits; 55 would not.
            vec![
                (0, 54, Some(1200)),
                (54, 108, Some(1200)),
                (108, 130, Some(1200))
            ]
        );
        assert_eq!(
            shape(&plan(&[10; 100], 64, MAX_GSO_BYTES)),
            vec![(0, 64, Some(10)), (64, 100, Some(10))]
        );
    }

    #[test]
    fn a_shorter_datagram_ends_a_message_and_a_longer_starts_one() {
        assert_eq!(
            shape(&plan(
                &[100, 100, 50, 100, 200, 200, 0, 7],
                64,
                MAX_GSO_BYTES
            )),
            vec![
                (0, 3, Some(100)),
                (3, 4, None),
                (4, 6, Some(200)),
                (6, 7, None),
                (7, 8, None)
            ]
        );
    }

    #[test]
    fn without_segmentation_every_datagram_goes_alone() {
        let p = plan(&[5, 5, 5], 1, MAX_GSO_BYTES);
        assert_eq!(shape(&p), vec![(0, 1, None), (1, 2, None), (2, 3, None)]);
        assert!(plan(&[], 64, MAX_GSO_BYTES).is_empty());
    }

    #[test]
    fn every_datagram_is_planned_once_in_order() {
        let sizes: Vec<usize> = (0..500)
            .map(|i| [1200, 1200, 800, 0, 1500][i % 5])
            .collect();
        let p = plan(&sizes, 64, MAX_GSO_BYTES);
        let mut next = 0;
        for t in &p {
            assert_eq!(t.start, next);
            assert!(t.end > t.start);
            let total: usize = sizes[t.start..t.end].iter().sum();
            assert!(total <= MAX_GSO_BYTES || t.end - t.start == 1);
            next = t.end;
        }
        assert_eq!(next, sizes.len());
    }
}
