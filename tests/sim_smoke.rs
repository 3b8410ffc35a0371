mod common;
use common::protocol::*;
use secagg::sim::DropSchedule;

#[test]
fn smoke() {
    for model in MODELS {
        for (graph, deg) in [
            (secagg::protocol::graph::GraphSpec::Complete, 6),
            (harary(4), 4),
        ] {
            let t = if model == Model::Malicious {
                deg / 2 + 1
            } else {
                2
            };
            let spec = Spec::new(7, t, graph, model);
            let (config, keys) = spec.build();
            assert!(check_schedule(
                &spec,
                &config,
                &keys,
                &DropSchedule::none(7),
                1
            ));
            let mut s = DropSchedule::none(7);
            s.set(1, Some(secagg::protocol::Round::MaskedInputCollection));
            s.set(4, Some(secagg::protocol::Round::Unmasking));
            println!("{:?}", check_schedule(&spec, &config, &keys, &s, 2));
        }
    }
}
