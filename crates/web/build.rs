//! Embeds the front end's built bundle (`web/dist`, committed, rebuilt by `scripts/test`) in the
//! binary, each file with its gzip form, so a node needs no Node.js and no files beside it.

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};

fn main() {
    // Read when the script runs, not when it is compiled: a compiled build script is reused by a
    // checkout elsewhere that shares the target directory (CI's clones).
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = Path::new(&manifest_dir).join("../../web/dist");
    println!("cargo::rerun-if-changed={}", dist.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut files = Vec::new();
    collect(&dist, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("index.html")),
        "web/dist holds no built bundle: run `npm ci && npm run build` in web/ (scripts/test does)"
    );
    files.sort();
    let mut table = String::from("&[\n");
    for (i, file) in files.iter().enumerate() {
        println!("cargo::rerun-if-changed={}", file.display());
        let bytes = std::fs::read(file).expect("a bundle file is readable");
        let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
        gzip.write_all(&bytes).expect("gzip into memory");
        let gz_path = out.join(format!("asset-{i}.gz"));
        std::fs::write(&gz_path, gzip.finish().expect("gzip into memory")).expect("OUT_DIR is writable");
        let path = file.strip_prefix(&dist).expect("under dist").to_str().expect("bundle paths are UTF-8");
        table.push_str(&format!(
            "    Asset {{ path: {:?}, body: include_bytes!({:?}), gzip: include_bytes!({:?}) }},\n",
            format!("/{path}"),
            file.display().to_string(),
            gz_path.display().to_string()
        ));
    }
    table.push(']');
    std::fs::write(out.join("assets.rs"), table).expect("OUT_DIR is writable");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
