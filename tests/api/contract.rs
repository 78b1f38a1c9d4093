//! `docs/api.md`, the contract, and the OpenAPI document the code generates
//! name the same endpoints: neither can gain or lose one alone.

use std::collections::BTreeSet;

fn contract_endpoints() -> BTreeSet<(String, String)> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    text.lines()
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim).skip(1);
            let method = cells.next()?;
            let path = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
            ["GET", "POST", "PATCH", "PUT", "DELETE"]
                .contains(&method)
                .then(|| (method.to_owned(), path.to_owned()))
        })
        .collect()
}

fn spec_endpoints() -> BTreeSet<(String, String)> {
    let spec: serde_json::Value = serde_json::from_str(&tally::openapi_json()).unwrap();
    spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

// ANCHOR: contract_test
#[test]
fn the_contract_and_the_openapi_document_list_the_same_endpoints() {
    let contract = contract_endpoints();
    let spec = spec_endpoints();
    assert!(
        contract.len() >= 15,
        "the contract's tables were read: {contract:?}"
    );
    assert_eq!(
        contract.difference(&spec).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "in docs/api.md, not in the code"
    );
    assert_eq!(
        spec.difference(&contract).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "in the code, not in docs/api.md"
    );
}
// ANCHOR_END: contract_test
