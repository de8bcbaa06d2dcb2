import AttributionServer
import Logging
import Synchronization
import Testing

@Suite struct LogHandlerTests {
    @Test func writesStreamLogHandlersLineWithMetadataSortedAndMerged() {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "clickattr") { label in
            StandardErrorLogHandler(label: label) { line in lines.withLock { $0.append(line) } }
        }
        logger[metadataKey: "hb.request.id"] = "7"
        logger[metadataKey: "b"] = "base"
        logger.debug("below the level")
        logger.warning("visit not stored", metadata: ["b": "explicit", "a": "1"])
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = written.first ?? ""
        // 2026-11-29T03:48:50.611Z warning clickattr: a=1 b=explicit hb.request.id=7 [AttributionServerTests] visit ...
        #expect(line.count > 25 && line.dropFirst(23).hasPrefix("Z warning clickattr: "))
        #expect(line.hasSuffix(" a=1 b=explicit hb.request.id=7 [AttributionServerTests] visit not stored\n"))
    }
}
