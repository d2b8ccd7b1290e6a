//! Bench target `udp`: skipped until sock-udp lands.

fn main() {
    println!("udp: skipped: sock-udp has not landed yet");
}
