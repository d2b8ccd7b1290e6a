//! Bench target `tcp`: skipped until sock-tcp lands.

fn main() {
    println!("tcp: skipped: sock-tcp has not landed yet");
}
