//! The privacy accountant (filled in below).

use secagg::dp::Mechanism;

#[test]
fn mechanism_names_round_trip() {
    for m in Mechanism::ALL {
        assert_eq!(m.name().parse::<Mechanism>(), Ok(m));
    }
    assert!("gauss".parse::<Mechanism>().is_err());
}
