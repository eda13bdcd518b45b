//! A post's sentence embedding: what it is about, as a unit-length vector, so two posts'
//! similarity is their dot product (cosine). Pure; the model that makes them lives in
//! `scoring`, the grouping that uses them in `problems`.

use base64::Engine as _;

/// A unit-length vector of finite numbers (never empty, never all zero).
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

/// Why a vector cannot be an embedding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbeddingError {
    #[error("an embedding needs at least one dimension")]
    Empty,
    #[error("an embedding must be finite and not all zero")]
    Degenerate,
    #[error("stored embedding is not base64 of little-endian f32s: {0}")]
    Encoding(String),
}

impl Embedding {
    /// Scales `values` to unit length.
    pub fn normalised(mut values: Vec<f32>) -> Result<Embedding, EmbeddingError> {
        if values.is_empty() {
            return Err(EmbeddingError::Empty);
        }
        let norm = values.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt();
        if !norm.is_finite() || norm == 0.0 || values.iter().any(|v| !v.is_finite()) {
            return Err(EmbeddingError::Degenerate);
        }
        for v in &mut values {
            *v = (f64::from(*v) / norm) as f32;
        }
        Ok(Embedding(values))
    }

    pub fn dims(&self) -> usize {
        self.0.len()
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Cosine similarity in [-1, 1]; 0 when the dimensions differ (vectors of two models are
    /// not comparable).
    pub fn cosine(&self, other: &Embedding) -> f32 {
        cosine(&self.0, &other.0)
    }

    /// The unit-length mean of `embeddings` (a group's centroid); `None` when there are none
    /// or they cancel out.
    pub fn mean<'a>(embeddings: impl IntoIterator<Item = &'a Embedding>) -> Option<Embedding> {
        let mut sum: Vec<f32> = Vec::new();
        for e in embeddings {
            if sum.is_empty() {
                sum = vec![0.0; e.dims()];
            }
            if e.dims() != sum.len() {
                continue;
            }
            for (s, v) in sum.iter_mut().zip(&e.0) {
                *s += v;
            }
        }
        Embedding::normalised(sum).ok()
    }

    /// Base64 of the little-endian f32s: how the store keeps it.
    pub fn encode(&self) -> String {
        let bytes: Vec<u8> = self.0.iter().flat_map(|v| v.to_le_bytes()).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// The inverse of [`Embedding::encode`] (normalised again, so a stored vector is always
    /// unit length).
    pub fn decode(text: &str) -> Result<Embedding, EmbeddingError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| EmbeddingError::Encoding(e.to_string()))?;
        if bytes.len() % 4 != 0 {
            return Err(EmbeddingError::Encoding(format!(
                "{} bytes is not a whole number of f32s",
                bytes.len()
            )));
        }
        let values = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Embedding::normalised(values)
    }
}

/// Cosine of two unit vectors (their dot product); 0 when the lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_vectors_have_unit_length_and_survive_the_store_encoding() {
        let e = Embedding::normalised(vec![3.0, 4.0]).unwrap();
        assert_eq!(e.as_slice(), &[0.6, 0.8]);
        assert!((e.cosine(&e) - 1.0).abs() < 1e-6);
        let back = Embedding::decode(&e.encode()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn degenerate_vectors_and_bad_encodings_are_refused() {
        assert_eq!(Embedding::normalised(vec![]), Err(EmbeddingError::Empty));
        assert_eq!(Embedding::normalised(vec![0.0, 0.0]), Err(EmbeddingError::Degenerate));
        assert_eq!(
            Embedding::normalised(vec![f32::NAN, 1.0]),
            Err(EmbeddingError::Degenerate)
        );
        assert!(matches!(Embedding::decode("%%%"), Err(EmbeddingError::Encoding(_))));
        assert!(matches!(Embedding::decode("AAA="), Err(EmbeddingError::Encoding(_))));
    }

    #[test]
    fn the_mean_points_between_its_members_and_other_models_do_not_compare() {
        let a = Embedding::normalised(vec![1.0, 0.0]).unwrap();
        let b = Embedding::normalised(vec![0.0, 1.0]).unwrap();
        let m = Embedding::mean([&a, &b]).unwrap();
        assert!((m.cosine(&a) - m.cosine(&b)).abs() < 1e-6);
        assert!(m.cosine(&a) > 0.7);
        let other = Embedding::normalised(vec![1.0, 0.0, 0.0]).unwrap();
        assert_eq!(a.cosine(&other), 0.0);
        let opposite = Embedding::normalised(vec![-1.0, 0.0]).unwrap();
        assert_eq!(Embedding::mean([&a, &opposite]), None);
    }
}
