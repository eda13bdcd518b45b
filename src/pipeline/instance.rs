//! This process's name among instances sharing a database: in poll leases, scoring claims
//! and logs, so an operator can tell which machine and process holds what.

use crate::config::InstanceSettings;

/// The configured id, or `<hostname>-<pid>-<random>`: unique per start, so a restarted
/// process never mistakes the claims of the one it replaces for its own.
pub fn instance_id(settings: &InstanceSettings) -> String {
    if let Some(id) = &settings.id {
        return id.clone();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &random[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_id_wins_and_derived_ids_name_the_process_and_differ() {
        let configured = InstanceSettings {
            id: Some("eu-1".into()),
            ..InstanceSettings::default()
        };
        let derived = InstanceSettings::default();

        let a = instance_id(&derived);
        let b = instance_id(&derived);

        assert_eq!(instance_id(&configured), "eu-1");
        assert!(a.contains(&format!("-{}-", std::process::id())), "{a}");
        assert_ne!(a, b, "a random part keeps two starts apart");
    }
}
