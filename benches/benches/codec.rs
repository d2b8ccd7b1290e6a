//! Bench target `codec`: skipped until sock-codec lands.

fn main() {
    println!("codec: skipped: sock-codec has not landed yet");
}
