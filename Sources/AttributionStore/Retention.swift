/// Deleting what is past retention, a short batch at a time so that the writer is never held for long.
public enum Retention {
    public static let batchSize = 2000

    /// Deletes everything past `cutoff` (milliseconds since the epoch), batch after batch, and says what went.
    public static func purge(
        _ store: any Store, before cutoff: Int64, batchSize: Int = batchSize
    ) async throws -> PurgeCounts {
        var total = PurgeCounts()
        while true {
            let batch = try await store.purgeBatch(before: cutoff, limit: batchSize)
            total = total + batch
            if batch.total == 0 { return total }
            await Task.yield()
        }
    }
}
