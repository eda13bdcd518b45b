//! ONNX Runtime inference for the int8 variant of a complaint model (`[precisions.int8]` in
//! its manifest, made by `scripts/make_quantized_model.py`).
//!
//! The runtime is loaded at run time from `libonnxruntime.so` (ort's `load-dynamic`): the
//! configured path, else `ORT_DYLIB_PATH`, else the library `scripts/setup-onnxruntime.sh`
//! linked into the clone when earshot was built. A float32 or bfloat16 scorer never loads it.
//! Only tensors in and probabilities out live here; tokenizing and reading the outputs stay
//! in `model`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::execution_providers::CPUExecutionProvider;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

/// The ONNX Runtime version the int8 files are made and checked with (scripts/requirements-model.txt
/// and scripts/setup-onnxruntime.sh pin the same).
pub const RUNTIME_VERSION: &str = "1.22.1";

/// The library `scripts/setup-onnxruntime.sh` linked into the clone, as a build saw it.
const BUILT_WITH: Option<&str> = option_env!("EARSHOT_ONNXRUNTIME");

/// Where `libonnxruntime.so` is looked for: `configured`, else `ORT_DYLIB_PATH`, else the
/// clone's `.onnxruntime` as of the build.
pub fn runtime_library(configured: Option<&Path>) -> Option<PathBuf> {
    configured
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
        .or_else(|| BUILT_WITH.map(PathBuf::from))
}

/// Loads the runtime once per process; later calls return the first outcome.
fn init_runtime(library: &Path) -> Result<(), String> {
    static LOADED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    if LOADED.get().is_none() && !library.is_file() {
        return Err(format!(
            "ONNX Runtime library {} not found (run scripts/setup-onnxruntime.sh, set [scoring] onnxruntime \
             or ORT_DYLIB_PATH, or set [scoring] precision = \"fp32\")",
            library.display()
        ));
    }
    let loaded = LOADED.get_or_init(|| {
        let path = library.to_str().ok_or("the ONNX Runtime path is not UTF-8")?;
        // `commit` loads the library and creates the process-wide environment; it reports a
        // library of the wrong version instead of crashing.
        ort::init_from(path)
            .with_name("earshot")
            .commit()
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", library.display()))?;
        tracing::info!(library = %library.display(), made_for = RUNTIME_VERSION, "Loaded ONNX Runtime.");
        Ok(library.to_owned())
    });
    match loaded {
        Ok(first) if first != library => Err(format!(
            "ONNX Runtime is already loaded from {}; one process uses one library",
            first.display()
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(e.clone()),
    }
}

/// The three heads' probabilities for a batch, row-major (`batch × classes`).
pub struct HeadOutputs {
    pub sentiment: Vec<Vec<f32>>,
    pub complaint: Vec<Vec<f32>>,
    pub severity: Vec<Vec<f32>>,
}

/// An ONNX Runtime session over one model file.
pub struct OnnxModel {
    session: Session,
}

impl OnnxModel {
    /// Opens `file` (already checked against the manifest) with `threads` intra-op threads
    /// (0: ONNX Runtime's default, all cores).
    pub fn load(file: &Path, threads: usize, library: Option<&Path>) -> Result<OnnxModel, String> {
        let library = runtime_library(library).ok_or_else(|| {
            "no ONNX Runtime library known (run scripts/setup-onnxruntime.sh, or set [scoring] onnxruntime or \
             ORT_DYLIB_PATH)"
                .to_owned()
        })?;
        init_runtime(&library)?;
        let fail = |e: ort::Error| format!("cannot open {}: {e}", file.display());
        let mut builder = Session::builder()
            .map_err(fail)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(fail)?
            // One batch at a time on this thread: no inter-op pool, and no spinning threads
            // burning the cores the store and the web server need between batches.
            .with_inter_threads(1)
            .map_err(fail)?
            .with_intra_op_spinning(false)
            .map_err(fail)?
            // Batches differ in shape, so an arena would grow to the largest batch seen and
            // keep it; malloc returns what a batch used.
            .with_execution_providers([CPUExecutionProvider::default().with_arena_allocator(false).build()])
            .map_err(fail)?
            .with_memory_pattern(false)
            .map_err(fail)?;
        if threads > 0 {
            builder = builder.with_intra_threads(threads).map_err(fail)?;
        }
        let session = builder.commit_from_file(file).map_err(fail)?;
        for name in ["input_ids", "attention_mask"] {
            if !session.inputs.iter().any(|i| i.name == name) {
                return Err(format!("{} has no input {name:?}", file.display()));
            }
        }
        for name in ["sentiment", "complaint", "severity"] {
            if !session.outputs.iter().any(|o| o.name == name) {
                return Err(format!("{} has no output {name:?}", file.display()));
            }
        }
        Ok(OnnxModel { session })
    }

    /// Runs one padded batch: `ids` and `mask` are `rows × width`, row-major.
    pub fn run(&mut self, ids: Vec<i64>, mask: Vec<i64>, rows: usize, width: usize) -> Result<HeadOutputs, String> {
        let shape = [rows, width];
        let ids = Tensor::from_array((shape, ids)).map_err(|e| e.to_string())?;
        let mask = Tensor::from_array((shape, mask)).map_err(|e| e.to_string())?;
        let outputs = self
            .session
            .run(ort::inputs!["input_ids" => ids, "attention_mask" => mask])
            .map_err(|e| e.to_string())?;
        let head = |name: &str, classes: usize| -> Result<Vec<Vec<f32>>, String> {
            let (shape, data) = outputs[name]
                .try_extract_tensor::<f32>()
                .map_err(|e| format!("output {name}: {e}"))?;
            if shape.len() != 2 || shape[0] as usize != rows || shape[1] as usize != classes {
                return Err(format!(
                    "output {name} has shape {shape:?}, expected [{rows}, {classes}]"
                ));
            }
            Ok(data.chunks(classes).map(<[f32]>::to_vec).collect())
        };
        Ok(HeadOutputs {
            sentiment: head("sentiment", 3)?,
            complaint: head("complaint", 2)?,
            severity: head("severity", crate::domain::Severity::ALL.len())?,
        })
    }
}
