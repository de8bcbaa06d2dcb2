/// glibc's allocator, told to give memory back: a burst of large webhook bodies must not leave the process at
/// its peak for good. (The Glibc module does not bring in <malloc.h>, so its three calls are declared here.)
enum MemoryReturn {
    /// Large buffers (bodies, report pages) are mapped on their own and unmapped when freed; glibc would
    /// otherwise raise that threshold after the first free and carve later ones out of its heaps. Fewer arenas
    /// keep freed memory from being spread over one heap per thread.
    static func configure() {
        #if os(Linux)
        _ = glibcMallopt(mmapThreshold, 256 * 1024)
        _ = glibcMallopt(arenaMax, 4)
        #endif
    }

    /// Hands free heap pages back to the system; a few milliseconds, worth it after a large delivery.
    static func trim() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }
}

#if os(Linux)
/// <malloc.h>'s M_MMAP_THRESHOLD and M_ARENA_MAX.
private let mmapThreshold: Int32 = -3
private let arenaMax: Int32 = -8

@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
