//! Travel models. Points are numbered as tasks (jobs in order, then each shipment's pickup
//! and delivery), then each vehicle's start and end.

use crate::model::{Location, Problem, TravelSpec};
use crate::PlanError;
use geo::{Distance, Haversine, Point};

/// Distance and duration between numbered points.
pub trait Travel: Send + Sync {
    fn distance(&self, a: usize, b: usize) -> f64;
    fn duration(&self, a: usize, b: usize) -> f64;
}

/// Straight lines on (lon, lat) as (x, y): the benchmark files.
pub struct EuclideanTravel {
    pub points: Vec<[f64; 2]>,
    pub speed: f64,
}

impl Travel for EuclideanTravel {
    #[inline]
    fn distance(&self, a: usize, b: usize) -> f64 {
        let (p, q) = (self.points[a], self.points[b]);
        ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
    }
    #[inline]
    fn duration(&self, a: usize, b: usize) -> f64 {
        self.distance(a, b) / self.speed
    }
}

/// Great-circle metres times a detour factor; duration at a constant speed (m/s).
pub struct HaversineTravel {
    points: Vec<Point<f64>>,
    /// cos(latitude) per point: large problems compute distances on the fly, and this is
    /// `geo`'s haversine formula with its two cosines cached (same operations, same bits).
    cos_lat: Vec<f64>,
    detour: f64,
    speed: f64,
}

impl HaversineTravel {
    pub fn new(points: Vec<Point<f64>>, detour: f64, speed: f64) -> Self {
        let cos_lat = points.iter().map(|p| p.y().to_radians().cos()).collect();
        HaversineTravel {
            points,
            cos_lat,
            detour,
            speed,
        }
    }

    /// Reference implementation (the `geo` crate), for tests.
    pub fn geo_distance(&self, a: usize, b: usize) -> f64 {
        Haversine.distance(self.points[a], self.points[b]) * self.detour
    }
}

impl Travel for HaversineTravel {
    #[inline]
    fn distance(&self, a: usize, b: usize) -> f64 {
        if a == b {
            return 0.0;
        }
        let (p, q) = (self.points[a], self.points[b]);
        let dt = (q.y() - p.y()).to_radians();
        let dl = (q.x() - p.x()).to_radians();
        let h =
            (dt / 2.0).sin().powi(2) + self.cos_lat[a] * self.cos_lat[b] * (dl / 2.0).sin().powi(2);
        Haversine.radius() * (2.0 * h.sqrt().asin()) * self.detour
    }
    #[inline]
    fn duration(&self, a: usize, b: usize) -> f64 {
        self.distance(a, b) / self.speed
    }
}

/// Given matrices.
pub struct MatrixTravel {
    pub distances: Vec<Vec<f64>>,
    pub durations: Vec<Vec<f64>>,
}

impl Travel for MatrixTravel {
    #[inline]
    fn distance(&self, a: usize, b: usize) -> f64 {
        if a == b {
            0.0
        } else {
            self.distances[a][b]
        }
    }
    #[inline]
    fn duration(&self, a: usize, b: usize) -> f64 {
        if a == b {
            0.0
        } else {
            self.durations[a][b]
        }
    }
}

/// Above this many points a dense table would cost too much memory (n^2): compute on the fly.
pub const DENSE_LIMIT: usize = 4000;

/// What the search uses: a dense table while it fits, else the model itself.
pub enum TravelTable {
    Dense {
        n: usize,
        dist: Vec<f64>,
        /// Duration = distance * factor (Euclidean, haversine) ...
        factor: f64,
        /// ... unless given separately (matrix).
        dur: Vec<f64>,
    },
    /// Computed on the fly; duration = distance * factor when `factor` is a number.
    Lazy(Box<dyn Travel>, f64),
    /// Straight lines computed inline (duration = distance * factor) on large problems: a
    /// square root is cheaper than a table lookup that misses the cache (`PLANE_ABOVE`), and
    /// gives the same bits.
    Plane(EuclideanTravel, f64),
}

impl TravelTable {
    #[inline]
    pub fn dist(&self, a: usize, b: usize) -> f64 {
        match self {
            TravelTable::Dense { n, dist, .. } => dist[a * n + b],
            TravelTable::Lazy(t, _) => t.distance(a, b),
            TravelTable::Plane(t, _) => t.distance(a, b),
        }
    }

    /// Distance and duration of a leg, none between two stops at the same point.
    #[inline]
    pub fn leg(&self, a: usize, b: usize) -> (f64, f64) {
        if a == b {
            (0.0, 0.0)
        } else {
            self.both(a, b)
        }
    }

    /// Distance and duration together: one match, one index or one computation.
    #[inline]
    pub fn both(&self, a: usize, b: usize) -> (f64, f64) {
        match self {
            TravelTable::Dense {
                n,
                dist,
                factor,
                dur,
            } => {
                let i = a * n + b;
                let d = dist[i];
                (d, if dur.is_empty() { d * factor } else { dur[i] })
            }
            TravelTable::Lazy(t, f) => {
                let d = t.distance(a, b);
                (d, if f.is_nan() { t.duration(a, b) } else { d * f })
            }
            TravelTable::Plane(t, f) => {
                let d = t.distance(a, b);
                (d, d * f)
            }
        }
    }
    #[inline]
    pub fn time(&self, a: usize, b: usize) -> f64 {
        match self {
            TravelTable::Dense {
                n,
                dist,
                factor,
                dur,
            } => {
                if dur.is_empty() {
                    dist[a * n + b] * factor
                } else {
                    dur[a * n + b]
                }
            }
            TravelTable::Lazy(t, f) => {
                if f.is_nan() {
                    t.duration(a, b)
                } else {
                    t.distance(a, b) * f
                }
            }
            TravelTable::Plane(t, f) => t.distance(a, b) * f,
        }
    }
}

/// How many points a problem has in the numbering above.
pub fn point_count(p: &Problem) -> usize {
    p.task_count() + 2 * p.vehicles.len()
}

/// All points of a problem in the numbering above.
pub fn points(p: &Problem) -> Vec<Location> {
    let mut pts: Vec<Location> = (0..p.task_count())
        .filter_map(|i| p.task(i))
        .map(|t| t.location())
        .collect();
    for v in &p.vehicles {
        pts.push(v.start);
        pts.push(v.end);
    }
    pts
}

/// Straight lines between the points, (lon, lat) taken as (x, y).
fn euclidean(points: &[Location], speed: f64) -> EuclideanTravel {
    EuclideanTravel {
        points: points.iter().map(|l| [l.lon, l.lat]).collect(),
        speed,
    }
}

/// Builds the travel model for a problem (errors: matrix of the wrong size, road service
/// unreachable).
pub fn model(p: &Problem) -> Result<(Box<dyn Travel>, f64), PlanError> {
    let pts = points(p);
    Ok(match &p.travel {
        TravelSpec::Euclidean { speed } => (Box::new(euclidean(&pts, *speed)), 1.0 / speed),
        TravelSpec::Haversine { detour, speed } => (
            Box::new(HaversineTravel::new(
                pts.iter().map(|l| Point::new(l.lon, l.lat)).collect(),
                *detour,
                *speed,
            )),
            1.0 / speed,
        ),
        TravelSpec::Matrix {
            distances,
            durations,
        } => {
            let n = pts.len();
            let ok = |m: &Vec<Vec<f64>>| m.len() == n && m.iter().all(|r| r.len() == n);
            if !ok(distances) || !ok(durations) {
                return Err(PlanError::Invalid(format!(
                    "travel matrices must be {n}x{n} (jobs, shipment steps, then each vehicle's start and end)"
                )));
            }
            (
                Box::new(MatrixTravel {
                    distances: distances.clone(),
                    durations: durations.clone(),
                }),
                f64::NAN,
            )
        }
        TravelSpec::Osrm { url, profile } => {
            let m = crate::osrm::fetch(url, profile, &pts).map_err(PlanError::Travel)?;
            (Box::new(m), f64::NAN)
        }
    })
}

/// Above this many points straight lines are computed inline rather than tabled: a small
/// table stays in cache and beats square roots, a large one does not. One ruin-and-recreate
/// step, table against inline (`benches/records/criterion.md`, "straight lines"): R201, 150
/// points, 28.5 against 36.8 us; R2-like, 300 points, 52.7 against 58.1 us; 450 points, 71.8
/// against 69.3 us; 1,500 points (an 18 MB table), 154 against 84.9 us. Since insertions skip
/// the places the windows rule out (fewer legs read): 25.6 against 28.6, 40.8 against 38.6,
/// 48.3 against 50.3, 79.1 against 59.3 us: within 6 % of each other, either way, from 300 to
/// 450 points, so the threshold stays.
pub const PLANE_ABOVE: usize = 400;

/// The search's travel: straight lines inline above `PLANE_ABOVE` points, else `tabled`.
pub fn table(p: &Problem) -> Result<TravelTable, PlanError> {
    if point_count(p) > PLANE_ABOVE {
        if let Some(t) = plane(p) {
            return Ok(t);
        }
    }
    tabled(p)
}

/// Straight lines computed inline; `None` unless the problem's travel is straight lines.
pub fn plane(p: &Problem) -> Option<TravelTable> {
    match p.travel {
        TravelSpec::Euclidean { speed } => Some(TravelTable::Plane(
            euclidean(&points(p), speed),
            1.0 / speed,
        )),
        _ => None,
    }
}

/// A dense table up to `DENSE_LIMIT` points, the model computed leg by leg above.
pub fn tabled(p: &Problem) -> Result<TravelTable, PlanError> {
    let n = point_count(p);
    let (m, factor) = model(p)?;
    if n > DENSE_LIMIT {
        return Ok(TravelTable::Lazy(m, factor));
    }
    let mut dist = vec![0.0; n * n];
    for a in 0..n {
        for b in 0..n {
            dist[a * n + b] = m.distance(a, b);
        }
    }
    let dur = if factor.is_nan() {
        let mut d = vec![0.0; n * n];
        for a in 0..n {
            for b in 0..n {
                d[a * n + b] = m.duration(a, b);
            }
        }
        d
    } else {
        Vec::new()
    };
    Ok(TravelTable::Dense {
        n,
        dist,
        factor: if factor.is_nan() { 1.0 } else { factor },
        dur,
    })
}
