//! A stand-in for PRH's open data API (v3), a process of the harness's own so that its CPU time
//! is its own: every business ID gets Nokia's real record (captured from the live API) with the
//! ID written in, so that each lookup of a new ID is a cache miss with a real-sized answer.
//!
//! A minimal HTTP/1.1 server over tokio (keep-alive, `GET` only): a mock library keeps every
//! request it matched for later verification, which a benchmark's millions of calls would turn
//! into gigabytes.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Nokia Oyj's record as PRH answered `?businessId=0112038-9`.
const NOKIA: &str = include_str!("../../enrichment/tests/fixtures/prh/company-0112038-9.json");

/// Serves until killed.
pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            // A connection that breaks or speaks nonsense just ends.
            let _ = connection(stream).await;
        });
    }
}

async fn connection(stream: tokio::net::TcpStream) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let target = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        // The headers, up to the empty line (a GET has no body).
        let mut header = String::new();
        loop {
            header.clear();
            if read.read_line(&mut header).await? == 0 {
                return Ok(());
            }
            if header.trim_end().is_empty() {
                break;
            }
        }
        let (status, body) = answer(&target);
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        write.write_all(head.as_bytes()).await?;
        write.write_all(body.as_bytes()).await?;
    }
}

/// The answer to `GET target`: the record with the asked ID, or 404 for another path.
fn answer(target: &str) -> (&'static str, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/opendata-ytj-api/v3/companies" {
        return ("404 Not Found", "{}".into());
    }
    let id = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("businessId="))
        .unwrap_or_default();
    ("200 OK", NOKIA.replace("0112038-9", id))
}

/// The `n`th valid business ID from 1000000 on: the Y-tunnus check digit (weights 7, 9, 10, 5,
/// 8, 4, 2, mod 11; a remainder of 1 gives no valid ID, so that number is skipped).
pub fn business_id(n: u64) -> String {
    let mut number = 1_000_000 + n * 2;
    loop {
        let digits: Vec<u64> = format!("{number:07}")
            .bytes()
            .map(|b| u64::from(b - b'0'))
            .collect();
        let sum: u64 = digits
            .iter()
            .zip([7, 9, 10, 5, 8, 4, 2])
            .map(|(d, w)| d * w)
            .sum();
        match sum % 11 {
            0 => return format!("{number:07}-0"),
            1 => number += 1,
            r => return format!("{number:07}-{}", 11 - r),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_business_ids_are_valid_and_distinct() {
        let ids: Vec<String> = (0..1000).map(super::business_id).collect();
        for id in &ids {
            rekisteri_identifiers::BusinessId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }

    #[test]
    fn the_stand_in_answers_with_the_asked_id() {
        let (status, body) =
            super::answer("/opendata-ytj-api/v3/companies?businessId=2135102-9&x=1");
        assert_eq!(status, "200 OK");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["companies"][0]["businessId"]["value"], "2135102-9");
        assert_eq!(super::answer("/elsewhere").0, "404 Not Found");
    }
}
