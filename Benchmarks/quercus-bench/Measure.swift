import Foundation

/// CPU seconds this process has used (user + system), the figure benchmarks compare: wall-clock
/// time on this shared machine swings too much to mean anything.
func processCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Runs `body` `iterations` times and returns CPU nanoseconds per iteration.
func cpuNanosecondsPerIteration(iterations: Int, _ body: () -> Void) -> Double {
    let start = processCPUSeconds()
    for _ in 0..<iterations { body() }
    return (processCPUSeconds() - start) * 1e9 / Double(iterations)
}

/// Interleaves `rounds` measurements of a baseline and of ours, and reports the median of each
/// and the median of the per-round ratios (ours / baseline), as BENCHMARKS.md asks.
struct SideBySide {
    let name: String
    let unit: String
    let baselineName: String
    let oursName: String
    var baseline: [Double] = []
    var ours: [Double] = []

    init(name: String, unit: String, baseline: String, ours: String) {
        self.name = name
        self.unit = unit
        self.baselineName = baseline
        self.oursName = ours
    }

    mutating func record(baseline: Double, ours: Double) {
        self.baseline.append(baseline)
        self.ours.append(ours)
    }

    func report() -> String {
        let ratios = zip(ours, baseline).map { $0 / $1 }
        return String(
            format: "%@: %@ %.1f %@, %@ %.1f %@, ratio %.2f (median of %d interleaved rounds)",
            name, baselineName, median(baseline), unit, oursName, median(ours), unit, median(ratios), ratios.count)
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Keeps a computed value alive so the optimizer cannot delete the work that produced it.
@_optimize(none)
func consume<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// Hides a value's origin from the optimizer, so work on it cannot be hoisted out of a loop.
@_optimize(none)
func opaque<T>(_ value: T) -> T {
    value
}
