//! Placeholder lists for statements whose number of values depends on the input: `IN (…)`
//! lists and multi-row `VALUES`. Only `$N` text lives here; no statement is run.

/// Rows per multi-row `INSERT`: a round trip for many rows, well below every backend's limit
/// on bound parameters (SQLite 32,766, PostgreSQL 65,535) at the widest row (19 columns).
pub(super) const ROWS_PER_INSERT: usize = 64;

/// `$first, $first+1, …` for `n` values.
pub(super) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, …, $columns), ($columns+1, …)`: `rows` tuples of `columns` placeholders each.
pub(super) fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(1 + row * columns, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_rows_number_every_placeholder_once_in_order() {
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows(1, 1), "($1)");
        assert_eq!(placeholders(4, 2), "$4, $5");
    }
}
