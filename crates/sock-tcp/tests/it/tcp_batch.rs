//! Batched sends: `write_batch` sends every buffer, in order, and completes
//! only when all of them are written (the sockets guide's `FlushAsync` guarantee).

use crate::support;

use bytes::Bytes;
use support::{pair, within};
use tokio::io::AsyncReadExt;

fn batch(count: usize) -> (Vec<Bytes>, Vec<u8>) {
    let bufs: Vec<Bytes> = (0..count)
        .map(|i| Bytes::from(format!("[buffer {i}]")))
        .collect();
    let all = bufs.iter().flat_map(|b| b.iter().copied()).collect();
    (bufs, all)
}

#[tokio::test]
async fn a_batch_larger_than_iov_max_and_the_socket_buffer_arrives_whole_and_in_order() {
    let (mut client, mut server) = pair().await;
    let (bufs, expected) = batch(50_000);
    let reader = tokio::spawn(async move {
        let mut got = vec![0u8; expected.len()];
        server.read_exact(&mut got).await.unwrap();
        (got, expected)
    });
    within(client.write_batch(&bufs)).await.unwrap();
    let (got, expected) = within(reader).await.unwrap();
    assert!(got == expected, "the batch arrived changed");
}

#[tokio::test]
async fn write_batch_on_split_output_streams() {
    let (client, mut server) = pair().await;
    let (bufs, expected) = batch(2_000);
    let (_input, mut output) = client.into_split();
    within(output.write_batch(&bufs)).await.unwrap();
    drop(output);
    let mut got = Vec::new();
    within(server.read_to_end(&mut got)).await.unwrap();
    assert!(got == expected);

    let (mut client, mut server) = pair().await;
    let (_input, mut output) = client.split();
    within(output.write_batch(&bufs)).await.unwrap();
    let mut got = vec![0u8; expected.len()];
    within(server.read_exact(&mut got)).await.unwrap();
    assert!(got == expected);
}
