import Foundation

// `quercus-bench [--smoke] [NAME...]`: in-process benchmarks, each measuring ours and a baseline
// or peer side by side in the same run and printing the ratio. Benchmarks that drive peer
// programs over sockets are scripts beside this folder (Benchmarks/*.sh); `Benchmarks/run` runs
// both kinds. Add an entry here for each new in-process benchmark.
let benchmarks: [(name: String, run: (_ smoke: Bool) -> String)] = [
    ("wire", benchmarkWire),
    ("tls", benchmarkTLS),
    ("dns", benchmarkDNS),
    ("icalendar", benchmarkICalendar),
]

let arguments = CommandLine.arguments.dropFirst()
let smoke = arguments.contains("--smoke")
let selected = arguments.filter { !$0.hasPrefix("--") }
var failed = false
for benchmark in benchmarks where selected.isEmpty || selected.contains(benchmark.name) {
    let line = benchmark.run(smoke)
    print(line)
    if line.contains("FAILED") { failed = true }
}
if failed { exit(1) }
