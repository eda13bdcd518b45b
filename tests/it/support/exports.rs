//! The weekly export as the dashboard tests compare with it: run for real into the test's
//! own folder, its summary file read back.

use std::sync::Arc;

use serde_json::Value;

use earshot::domain::now_millis;
use earshot::exports::week::IsoWeek;
use earshot::exports::{ExportFormat, ExportRequest, Exporter};
use earshot::store::ExportTrigger;

/// The current week's export, run for real; returns its summary file and the settings used.
pub(crate) async fn exported_summary(
    store: &Arc<dyn earshot::store::Store>,
    settings: &earshot::config::Settings,
) -> (IsoWeek, Value) {
    let exporter = Exporter::new(store.clone(), &settings.exports).unwrap();
    let week = IsoWeek::containing(now_millis(), exporter.timezone());
    let request = ExportRequest {
        week,
        brand: None,
        format: ExportFormat::Json,
        trigger: ExportTrigger::Manual,
    };
    exporter.export_week(&request, &|_| {}).await.unwrap().unwrap();
    let file = settings
        .exports
        .dir
        .join(week.to_string())
        .join(format!("earshot-{week}-all-summary.json"));
    (week, serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap())
}

/// Test settings writing exports into the test's own folder.
pub(crate) fn with_exports_in(
    settings: &earshot::config::Settings,
    dir: &std::path::Path,
) -> earshot::config::Settings {
    let mut settings = settings.clone();
    settings.exports.dir = dir.to_owned();
    settings
}
