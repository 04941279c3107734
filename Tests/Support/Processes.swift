import Foundation

public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public struct ProcessTimeout: Error, CustomStringConvertible {
    public let command: String
    public let seconds: Double
    public var description: String { "\(command) did not finish within \(seconds)s" }
}

/// Runs a program to completion with optional standard input, collecting its output. Kills it
/// and throws if it runs longer than `timeout` seconds, so a hung peer cannot hang the suite.
public func run(
    _ path: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil,
    currentDirectory: String? = nil, timeout: Double = 60
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let output = Pipe()
    let errors = Pipe()
    let input = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    let outputData = DataCollector(output.fileHandleForReading)
    let errorData = DataCollector(errors.fileHandleForReading)
    try process.run()
    if let stdin {
        // A peer that exits before reading all its input (a failed verification, say) must cost
        // a failed write, not a SIGPIPE that ends the whole test process.
        signal(SIGPIPE, SIG_IGN)
        try? input.fileHandleForWriting.write(contentsOf: stdin)
        try? input.fileHandleForWriting.close()
    }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline {
        usleep(5_000)
    }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw ProcessTimeout(command: ([path] + arguments).joined(separator: " "), seconds: timeout)
    }
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus,
        stdout: String(decoding: outputData.finish(), as: UTF8.self),
        stderr: String(decoding: errorData.finish(), as: UTF8.self)
    )
}

/// Reads a pipe on a background thread so a chatty child cannot block on a full pipe.
final class DataCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                data.append(chunk)
                lock.unlock()
            }
            done.signal()
        }
    }

    func finish() -> Data {
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return data
    }
}

/// A fresh folder under the system temporary folder, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "quercus") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    @discardableResult
    public func write(_ name: String, _ contents: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A program left running while a test talks to it (a server, a supervisor), with its output
/// collected as it comes.
public final class BackgroundProcess: @unchecked Sendable {
    public let process = Process()
    private let lock = NSLock()
    private var collected = Data()
    private var readers: [Thread] = []
    /// Standard input held open for programs that stop at its end (`openssl s_server`).
    private var input: Pipe?

    public init(
        _ path: String, _ arguments: [String], currentDirectory: String? = nil, keepsInputOpen: Bool = false
    ) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        if keepsInputOpen {
            let input = Pipe()
            self.input = input
            process.standardInput = input
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                collected.append(chunk)
                lock.unlock()
            }
        }
    }

    public var pid: Int32 { process.processIdentifier }

    /// Everything it has written to standard output and standard error so far.
    public var output: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    /// Waits until the output contains `text`; throws with the output so far if it does not
    /// within `timeout` seconds (a deadline for a hung program, not a speed assertion).
    public func waitForOutput(containing text: String, timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !output.contains(text) {
            guard Date() < deadline, process.isRunning || output.contains(text) else {
                throw WaitFailed(waitingFor: "output containing \"\(text)\"", output: output)
            }
            usleep(20_000)
        }
    }

    public func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits for the process to exit and returns its status; kills it and throws after `timeout`.
    @discardableResult
    public func waitForExit(timeout: Double = 30) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw WaitFailed(waitingFor: "exit", output: output)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stops it if it is still running (for `defer` in tests).
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

public struct WaitFailed: Error, CustomStringConvertible {
    public let waitingFor: String
    public let output: String
    public var description: String { "gave up waiting for \(waitingFor); output so far:\n\(output)" }
}

/// Polls `condition` until it holds or `timeout` seconds pass; returns whether it held.
public func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Whether a process with this PID exists (and is not a zombie awaiting its parent).
public func processIsAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    // The state is the field after the parenthesised command name; Z is a zombie.
    guard let close = status.lastIndex(of: ")") else { return true }
    return !status[close...].hasPrefix(") Z")
}
