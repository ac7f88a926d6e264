//! Output bytes never depend on the number of threads.

mod common;

use flacarray::{with_thread_count, CompressOptions, FlacArray, StepSpec};

#[test]
fn many_streams_identical_for_any_thread_count() {
    let data = common::int32_signal(21, 24, 20_000);
    let one = with_thread_count(Some(1), || {
        FlacArray::compress(&data, &[4, 6, 20_000], &CompressOptions::default())
    })
    .unwrap();
    for threads in [2, 3, 8] {
        let many = with_thread_count(Some(threads), || {
            FlacArray::compress(&data, &[4, 6, 20_000], &CompressOptions::default())
        })
        .unwrap();
        assert!(one == many, "{threads} threads changed the output");
    }
}

#[test]
fn single_long_stream_identical_with_frame_threads() {
    // 1 stream and 4 pool threads: its frames are encoded on 4 threads.
    let mut rng = common::Rng::new(5);
    let data = common::timestream(&mut rng, 600_000, 0.0, 10.0, 0.1);
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(vec![1e-3]));
    let one = with_thread_count(Some(1), || FlacArray::compress(&data, &[600_000], &opts)).unwrap();
    let four =
        with_thread_count(Some(4), || FlacArray::compress(&data, &[600_000], &opts)).unwrap();
    assert!(one == four, "encoding frames on threads changed the output");
    assert_eq!(four.to_vec::<f64>().unwrap(), one.to_vec::<f64>().unwrap());
}
