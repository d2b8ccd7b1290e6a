//! Bench target `tls`: skipped until sock-tls lands.

fn main() {
    println!("tls: skipped: sock-tls has not landed yet");
}
