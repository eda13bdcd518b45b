//! Grouping complaints by meaning: the incremental step (each new complaint joins the most
//! similar problem, or starts one) and the periodic re-clustering of the recent window
//! (average-linkage agglomerative clustering, `kodama`), reconciled with the problems that
//! already exist so a problem keeps its id, status and owner when its members move.
//! Pure: the pipeline brings the vectors and stores the result.

use std::collections::HashMap;

use crate::domain::Embedding;

/// A problem as the incremental step sees it: its centroid and how many complaints it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Centroid {
    pub problem_id: i64,
    pub centroid: Embedding,
    pub n_members: u32,
}

impl Centroid {
    /// The centroid after `member` joins (the running mean, kept at unit length).
    pub fn with_member(&self, member: &Embedding) -> Embedding {
        let n = self.n_members.max(1) as f32;
        let values: Vec<f32> = self
            .centroid
            .as_slice()
            .iter()
            .zip(member.as_slice())
            .map(|(c, m)| c * n + m)
            .collect();
        Embedding::normalised(values).unwrap_or_else(|_| self.centroid.clone())
    }
}

/// The most similar centroid at or above `join_similarity`: its index and similarity.
pub fn nearest(centroids: &[Centroid], embedding: &Embedding, join_similarity: f32) -> Option<(usize, f32)> {
    nearest_of(centroids.iter().map(|c| &c.centroid), embedding, join_similarity)
}

/// [`nearest`] over any sequence of centroids; the index is the position in it (the first
/// of equally similar ones wins).
pub fn nearest_of<'a>(
    centroids: impl IntoIterator<Item = &'a Embedding>,
    embedding: &Embedding,
    join_similarity: f32,
) -> Option<(usize, f32)> {
    centroids
        .into_iter()
        .enumerate()
        .map(|(i, c)| (i, c.cosine(embedding)))
        .filter(|(_, similarity)| *similarity >= join_similarity)
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
}

/// Average-linkage clusters of `embeddings`: clusters are merged while the mean cosine
/// distance between their members is at most `max_distance`. Returns a cluster number per
/// embedding, numbered from 0 in order of first appearance.
pub fn agglomerate(embeddings: &[&Embedding], max_distance: f32) -> Vec<usize> {
    let n = embeddings.len();
    if n < 2 {
        return vec![0; n];
    }
    let mut condensed = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n - 1 {
        for j in i + 1..n {
            condensed.push(f64::from(1.0 - embeddings[i].cosine(embeddings[j])).max(0.0));
        }
    }
    let dendrogram = kodama::linkage(&mut condensed, n, kodama::Method::Average);
    // Union-find over the merges below the cut; cluster labels n.. name merged clusters.
    let mut parent: Vec<usize> = (0..2 * n - 1).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (step_index, step) in dendrogram.steps().iter().enumerate() {
        let merged = n + step_index;
        if step.dissimilarity <= f64::from(max_distance) {
            let a = root(&mut parent, step.cluster1);
            let b = root(&mut parent, step.cluster2);
            parent[a] = merged;
            parent[b] = merged;
        }
    }
    let mut numbers: HashMap<usize, usize> = HashMap::new();
    (0..n)
        .map(|i| {
            let r = root(&mut parent, i);
            let next = numbers.len();
            *numbers.entry(r).or_insert(next)
        })
        .collect()
}

/// Where one member goes after a re-clustering: an existing problem, or the new problem
/// numbered `New(k)` (members with the same `k` start one problem together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Existing(i64),
    New(usize),
}

/// Maps fresh clusters onto the problems members had: the biggest cluster first takes the
/// problem most of its members were in, each problem going to one cluster at most; a cluster
/// left without one becomes a new problem. So a problem keeps its id (and its status,
/// owner and note) while the grouping improves, and two problems that turn out to be one
/// merge into the bigger one.
pub fn reconcile(previous: &[Option<i64>], clusters: &[usize]) -> Vec<Target> {
    let n_clusters = clusters.iter().copied().max().map_or(0, |m| m + 1);
    let mut votes: Vec<HashMap<i64, usize>> = vec![HashMap::new(); n_clusters];
    let mut sizes = vec![0usize; n_clusters];
    for (prev, &cluster) in previous.iter().zip(clusters) {
        sizes[cluster] += 1;
        if let Some(problem) = prev {
            *votes[cluster].entry(*problem).or_insert(0) += 1;
        }
    }
    let mut order: Vec<usize> = (0..n_clusters).collect();
    order.sort_by(|a, b| sizes[*b].cmp(&sizes[*a]).then(a.cmp(b)));
    let mut taken = std::collections::HashSet::new();
    let mut target_of = vec![Target::New(0); n_clusters];
    let mut n_new = 0;
    for cluster in order {
        let mut candidates: Vec<(i64, usize)> = votes[cluster].iter().map(|(p, v)| (*p, *v)).collect();
        // Most votes first; the older (smaller) id on a tie.
        candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        target_of[cluster] = match candidates.into_iter().find(|(p, _)| !taken.contains(p)) {
            Some((problem, _)) => {
                taken.insert(problem);
                Target::Existing(problem)
            }
            None => {
                n_new += 1;
                Target::New(n_new - 1)
            }
        };
    }
    clusters.iter().map(|&c| target_of[c]).collect()
}

/// The live grouping replayed over posts in order, for `earshot problems eval`: each post is
/// assigned incrementally as it arrives, and every `recluster_every` posts (and once at the
/// end) the window is re-clustered and reconciled, as the scheduled job does. Returns a group
/// number per post.
pub fn replay(
    embeddings: &[Embedding],
    join_similarity: f32,
    recluster_distance: f32,
    recluster_every: usize,
) -> Vec<i64> {
    let mut groups: Vec<Option<i64>> = Vec::with_capacity(embeddings.len());
    let mut centroids: Vec<Centroid> = Vec::new();
    let mut next_id = 1i64;
    for (i, embedding) in embeddings.iter().enumerate() {
        let id = match nearest(&centroids, embedding, join_similarity) {
            Some((at, _)) => {
                let c = &mut centroids[at];
                c.centroid = c.with_member(embedding);
                c.n_members += 1;
                c.problem_id
            }
            None => {
                let id = next_id;
                next_id += 1;
                centroids.push(Centroid {
                    problem_id: id,
                    centroid: embedding.clone(),
                    n_members: 1,
                });
                id
            }
        };
        groups.push(Some(id));
        let due = recluster_every > 0 && (i + 1) % recluster_every == 0;
        if due || i + 1 == embeddings.len() {
            let refs: Vec<&Embedding> = embeddings[..=i].iter().collect();
            let clusters = agglomerate(&refs, recluster_distance);
            let targets = reconcile(&groups, &clusters);
            let mut new_ids: HashMap<usize, i64> = HashMap::new();
            for (slot, target) in groups.iter_mut().zip(&targets) {
                *slot = Some(match target {
                    Target::Existing(id) => *id,
                    Target::New(k) => *new_ids.entry(*k).or_insert_with(|| {
                        next_id += 1;
                        next_id - 1
                    }),
                });
            }
            centroids = centroids_of(embeddings, &groups);
        }
    }
    groups.into_iter().map(|g| g.unwrap_or(0)).collect()
}

/// Each group's centroid and size, from its members.
fn centroids_of(embeddings: &[Embedding], groups: &[Option<i64>]) -> Vec<Centroid> {
    let mut members: std::collections::BTreeMap<i64, Vec<&Embedding>> = std::collections::BTreeMap::new();
    for (embedding, group) in embeddings.iter().zip(groups) {
        if let Some(g) = group {
            members.entry(*g).or_default().push(embedding);
        }
    }
    members
        .into_iter()
        .filter_map(|(problem_id, m)| {
            Some(Centroid {
                problem_id,
                n_members: m.len() as u32,
                centroid: Embedding::mean(m)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(values: &[f32]) -> Embedding {
        Embedding::normalised(values.to_vec()).unwrap()
    }

    #[test]
    fn a_complaint_joins_the_most_similar_problem_above_the_bar_or_none() {
        let centroids = vec![
            Centroid {
                problem_id: 7,
                centroid: e(&[1.0, 0.0, 0.0]),
                n_members: 3,
            },
            Centroid {
                problem_id: 9,
                centroid: e(&[0.0, 1.0, 0.0]),
                n_members: 1,
            },
        ];
        assert_eq!(nearest(&centroids, &e(&[0.9, 0.2, 0.0]), 0.5).map(|(i, _)| i), Some(0));
        assert_eq!(nearest(&centroids, &e(&[0.1, 0.9, 0.1]), 0.5).map(|(i, _)| i), Some(1));
        assert_eq!(nearest(&centroids, &e(&[0.0, 0.0, 1.0]), 0.5), None);
        let moved = centroids[1].with_member(&e(&[1.0, 0.0, 0.0]));
        assert!(
            moved.cosine(&e(&[1.0, 1.0, 0.0])) > 0.99,
            "one member each way: halfway"
        );
    }

    #[test]
    fn agglomeration_cuts_at_the_distance() {
        let points = [
            e(&[1.0, 0.05, 0.0]),
            e(&[0.0, 0.0, 1.0]),
            e(&[1.0, 0.0, 0.05]),
            e(&[0.05, 0.0, 1.0]),
            e(&[0.0, 1.0, 0.0]),
        ];
        let refs: Vec<&Embedding> = points.iter().collect();
        assert_eq!(agglomerate(&refs, 0.1), vec![0, 1, 0, 1, 2]);
        assert_eq!(agglomerate(&refs, 0.0001), vec![0, 1, 2, 3, 4]);
        assert_eq!(agglomerate(&refs, 2.0), vec![0, 0, 0, 0, 0]);
        assert_eq!(agglomerate(&refs[..1], 0.1), vec![0]);
        assert!(agglomerate(&[], 0.1).is_empty());
    }

    #[test]
    fn reconciling_keeps_ids_merges_into_the_bigger_and_names_new_clusters() {
        // Members 0-2 were problem 5, 3-4 problem 8, 5 was new; now 0-4 are one cluster and 5
        // with 6 another.
        let previous = [Some(5), Some(5), Some(5), Some(8), Some(8), None, Some(8)];
        let clusters = [0, 0, 0, 0, 0, 1, 1];
        let targets = reconcile(&previous, &clusters);
        assert_eq!(&targets[..5], &[Target::Existing(5); 5], "merged into the majority");
        assert_eq!(
            &targets[5..],
            &[Target::Existing(8); 2],
            "8 is still free for the second"
        );
        let split = reconcile(&[Some(5), Some(5), Some(5), Some(5)], &[0, 0, 1, 1]);
        assert_eq!(
            split,
            vec![Target::Existing(5), Target::Existing(5), Target::New(0), Target::New(0)],
            "a split keeps the id on one half and starts a problem for the other"
        );
    }

    #[test]
    fn replay_groups_two_topics_apart() {
        let mut posts = Vec::new();
        for i in 0..10 {
            let t = i as f32 * 0.01;
            posts.push(e(&[1.0, t, 0.0]));
            posts.push(e(&[0.0, t, 1.0]));
        }
        let groups = replay(&posts, 0.8, 0.2, 4);
        let first = groups[0];
        let second = groups[1];
        assert_ne!(first, second);
        for (i, g) in groups.iter().enumerate() {
            assert_eq!(*g, if i % 2 == 0 { first } else { second }, "{groups:?}");
        }
    }
}
