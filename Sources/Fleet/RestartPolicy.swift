/// When to restart a service that exited: exponential backoff on consecutive quick failures, so a
/// service that crashes at start does not spin, and a fresh start after a long healthy run.
public struct RestartPolicy: Equatable, Sendable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    /// A run at least this long counts as healthy and resets the backoff.
    public var healthyRun: Duration

    public init(
        initialDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(30),
        healthyRun: Duration = .seconds(10)
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.healthyRun = healthyRun
    }

    /// Delay before the next start after `consecutiveFailures` quick exits in a row (1 or more).
    public func delay(afterConsecutiveFailures failures: Int) -> Duration {
        var delay = initialDelay
        var step = 1
        while step < failures, delay < maximumDelay {
            delay *= 2
            step += 1
        }
        return min(delay, maximumDelay)
    }
}

/// The restart bookkeeping of one service, as a value fed the times it was given.
public struct RestartTracker: Equatable, Sendable {
    public let policy: RestartPolicy
    public private(set) var consecutiveFailures = 0

    public init(policy: RestartPolicy = RestartPolicy()) {
        self.policy = policy
    }

    /// Records an exit after a run of `runTime` and returns how long to wait before restarting.
    public mutating func exited(afterRunning runTime: Duration) -> Duration {
        consecutiveFailures = runTime >= policy.healthyRun ? 1 : consecutiveFailures + 1
        return policy.delay(afterConsecutiveFailures: consecutiveFailures)
    }
}
