import AttributionCore
import Logging
import ServiceLifecycle
import Synchronization

/// Where a spool's visits go: a database that stores each spooled visit once.
public protocol SpoolDestination: Sendable {
    /// Stores the batch's visits in one transaction, except those stored before (a batch is shipped again after a
    /// crash between the database's commit and the spool's forgetting it, possibly with more rows); returns how
    /// many were new.
    @discardableResult
    func recordSpooled(_ batch: VisitSpool.Batch) async throws -> Int
}

/// Moves spooled visits into the database in large idempotent batches, oldest first, and forgets each batch once
/// the database has committed it. While the database is away it retries with backoff, logging once when
/// shipping stops and once when it resumes. On shutdown it keeps shipping for at most `drainLimit`.
public final class SpoolShipper: Service {
    let spool: VisitSpool
    let store: any SpoolDestination
    let logger: Logger
    let batchSize: Int
    let drainLimit: Duration
    let gathering: Duration
    /// Whether the machine's cores are saturated: the shipper then gives way to the visitors.
    let coresSaturated: @Sendable () -> Bool
    /// Whether the last batch failed: the logs say when shipping stops and when it resumes, not every retry.
    private let failing = Atomic<Bool>(false)
    /// Set by `catchUp`: ship now.
    private let woken = Atomic<Bool>(false)
    /// The size of the next batch: halved after a failure (a batch the database cannot commit within its write
    /// timeout on busy cores would otherwise be retried whole for ever), doubled after eight that commit, up to
    /// `batchSize`.
    private let sizing: Mutex<(next: Int, successes: Int)>
    static let smallestBatch = 50

    public init(spool: VisitSpool, store: any SpoolDestination, logger: Logger, batchSize: Int = 5_000, drainLimit: Duration = .seconds(10),
        gathering: Duration = .milliseconds(250), coresSaturated: @escaping @Sendable () -> Bool = { false }
    ) {
        self.spool = spool
        self.store = store
        self.logger = logger
        self.batchSize = batchSize
        self.drainLimit = drainLimit
        self.gathering = gathering
        self.coresSaturated = coresSaturated
        self.sizing = Mutex((batchSize, 0))
    }

    public func run() async throws {
        // An idle spool is looked at every 50 ms (a counter, not a read), so a visit is shipped well within a second.
        // After shipping, the shipper lets visits gather for `gathering`: under load each batch then carries
        // thousands of visits, and the database's commit, its sync and the index pages it dirties are paid per
        // batch rather than per handful of visits.
        var backoff: Duration = .milliseconds(100)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if spool.depth.rows == 0 {
                await pause(.milliseconds(50))
                continue
            }
            switch await shipAll() {
            case .empty:
                backoff = .milliseconds(100)
                if spool.depth.rows < batchSize { await pause(gathering) }
            case .failed(let progressed):
                // Progress before the failure means the database is there and only the batch was too big.
                backoff = progressed ? .milliseconds(100) : backoff
                await pause(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
        await drain()
        // The visit writer stopped before the shipper: nothing of this instance writes to the spool now.
        spool.release()
    }

    /// Sleeps, but wakes at once when the service is told to stop, or (in steps of 10 ms) when `catchUp` asks.
    private func pause(_ duration: Duration) async {
        await sleep(until: ContinuousClock.now + duration) { !woken.exchange(false, ordering: .relaxed) }
    }

    /// Sleeps in steps of 10 ms until `deadline` while `going` holds, and not at all once the service is told to stop.
    private func sleep(until deadline: ContinuousClock.Instant, while going: () -> Bool) async {
        while ContinuousClock.now < deadline, going() {
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: min(.milliseconds(10), deadline - ContinuousClock.now))
                }
            } catch {
                return
            }
        }
    }

    /// Returns once every visit spooled before the call is in the database (shipping at once rather than after
    /// the usual gathering), or after `patience`: for a request that reads visits just answered, such as a
    /// conversion that names its visitor.
    public func catchUp(patience: Duration = .seconds(2)) async {
        let target = spool.progress.appended
        guard spool.progress.forgotten < target else { return }
        woken.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + patience
        while spool.progress.forgotten < target, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    public enum Outcome: Equatable, Sendable {
        case empty
        /// A batch failed; `progressed` when batches were shipped before it.
        case failed(progressed: Bool)
    }

    /// Ships until the spool is empty or a batch fails. A failed batch halves the next one; eight in a row that
    /// commit double it again, up to `batchSize`.
    public func shipAll() async -> Outcome {
        var progressed = false
        while true {
            let limit = sizing.withLock { $0.next }
            do {
                guard let batch = try await spool.oldest(limit: limit) else { return .empty }
                let began = ContinuousClock.now
                try await store.recordSpooled(batch)
                try await spool.forget(batch)
                await giveWay(after: ContinuousClock.now - began)
                progressed = true
                sizing.withLock { sizing in
                    sizing.successes += 1
                    if sizing.successes >= 8 {
                        sizing.next = min(batchSize, sizing.next * 2)
                        sizing.successes = 0
                    }
                }
                recovered()
            } catch {
                sizing.withLock { sizing in
                    sizing.next = max(Self.smallestBatch, sizing.next / 2)
                    sizing.successes = 0
                }
                failed(error)
                return .failed(progressed: progressed)
            }
        }
    }

    /// While the cores are saturated (under a landing flood: visitors, their writer and the load itself), the
    /// shipper rests `restPerShipping` times as long as its last batch took before the next one: it then takes about
    /// a tenth of a core rather than a quarter, and the cores answer visitors (every visit is already on disk in the
    /// spool; only its indexing waits). The spool holds the difference, and the shipper catches up at full speed as
    /// soon as the pressure ends, the spool holds a quarter of its bound (so that resting never fills it), someone
    /// waits in `catchUp`, or the service stops.
    private func giveWay(after shipping: Duration) async {
        let depth = spool.depth
        guard depth.rows > 0, depth.bytes < spool.maxBytes / 4 else { return }
        await sleep(until: ContinuousClock.now + shipping * Self.restPerShipping) {
            coresSaturated() && !woken.load(ordering: .relaxed)
        }
    }
    static let restPerShipping = 9

    /// The size of the next batch, for tests.
    public var nextBatchSize: Int { sizing.withLock { $0.next } }

    /// On shutdown: what the database takes within `drainLimit`; the rest stays spooled for the next start.
    private func drain() async {
        let deadline = ContinuousClock.now + drainLimit
        while ContinuousClock.now < deadline {
            if await shipAll() == .empty { break }
            try? await Task.sleep(for: .milliseconds(250))
        }
        let left = spool.depth.rows
        if left > 0 {
            logger.warning(
                "stopping with visits not yet shipped; they stay in the spool and are shipped at the next start",
                metadata: ["spooled_visits": "\(left)", "spool": "\(spool.path)"])
        }
    }

    private func failed(_ error: any Error) {
        if !failing.exchange(true, ordering: .relaxed) {
            logger.error(
                "visits cannot be shipped to the database; they stay in the spool and shipping is retried",
                metadata: ["error": "\(error)", "spooled_visits": "\(spool.depth.rows)"])
        }
    }

    private func recovered() {
        if failing.exchange(false, ordering: .relaxed) {
            logger.notice("visits are being shipped to the database again", metadata: ["spooled_visits": "\(spool.depth.rows)"])
        }
    }
}
