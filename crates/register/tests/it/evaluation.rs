//! The importer measured on the evaluation set (`tests/evaluation`): the five real seed
//! documents and documents written for the set in Finnish, Swedish and English, each with its
//! fields written down by hand.

use std::path::Path;

use rekisteri_register::evaluate::{Evaluation, evaluate_dir};

fn evaluation() -> Evaluation {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/evaluation");
    evaluate_dir(&dir).expect("the evaluation set reads")
}

#[test]
fn precision_is_at_least_0_98_on_every_field_kind() {
    let evaluation = evaluation();
    println!("{}", evaluation.to_text(true));
    assert!(
        evaluation.documents.len() >= 20,
        "{:?}",
        evaluation.documents
    );
    assert_eq!(evaluation.below(0.98), Vec::<&str>::new(), "{evaluation}");
}

/// `EVAL_DOC=name cargo test -p rekisteri-register --test it -- --nocapture show`: what the
/// import made of one document of the set, field by field and line by line.
#[test]
fn show() {
    let Ok(name) = std::env::var("EVAL_DOC") else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/evaluation");
    let bytes = std::fs::read(dir.join(&name)).unwrap();
    let imported = rekisteri_register::import::import(&bytes, &name).unwrap();
    for m in &imported.report.mapped {
        println!("MAP {} = {} <- {}", m.field, m.value, m.evidence);
    }
    for u in &imported.report.unmapped {
        println!("UNM {} [{}] {}", u.text, u.section, u.reason);
    }
}
