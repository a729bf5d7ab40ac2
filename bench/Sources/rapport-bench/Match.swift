import ArgumentParser
import Foundation
import RapportCore
import RapportSupport

/// Runs identity resolution over a labelled data set in memory and writes clusters for `evaluate.py`.
///
/// The pure matcher alone, for tuning; the pipeline bench feeds the same files through import, workers and
/// ledger export.
struct Match: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cluster a labelled CSV (crm-dedupe or FEBRL) with the matcher.")

    @Option(help: "Records CSV (crm-dedupe records.csv or febrl*.csv).") var file: String
    @Option(help: "Where to write rec_id,cluster_id.") var out: String
    @Option(help: "Also write scored candidate pairs here (rec_id_a,rec_id_b,score,reasons).") var pairs: String?

    func run() throws {
        let text = try String(contentsOfFile: self.file, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        func col(_ row: [String], _ name: String) -> String? {
            guard let i = header.firstIndex(of: name), i < row.count else { return nil }
            let v = row[i].trimmingCharacters(in: .whitespaces)
            return v.isEmpty ? nil : v
        }
        let febrl = header.contains("soc_sec_id")
        let records: [PersonRecord] = lines.map { line in
            let r = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if febrl {
                let name = [col(r, "given_name"), col(r, "surname")].compactMap { $0 }.joined(separator: " ")
                let address = [col(r, "street_number"), col(r, "address_1"), col(r, "address_2"), col(r, "suburb"),
                               col(r, "state"), col(r, "postcode")].compactMap { $0 }.joined(separator: " ")
                return PersonRecord(id: col(r, "rec_id") ?? "", name: name, address: address,
                                    birthDate: col(r, "date_of_birth"), nationalID: col(r, "soc_sec_id"), phoneRegion: "AU")
            }
            return PersonRecord(id: col(r, "rec_id") ?? "", name: col(r, "name"), phone: col(r, "phone"),
                                email: col(r, "email"), company: col(r, "company"), address: col(r, "address"))
        }
        let t0 = ContinuousClock.now
        let profiles = records.map(MatchProfile.init)
        let t1 = ContinuousClock.now
        let result = IdentityClusterer().cluster(profiles)
        let t2 = ContinuousClock.now
        var csv = "rec_id,cluster_id\n"
        for (i, p) in profiles.enumerated() { csv += "\(p.id),\(profiles[result.clusterOf[i]].id)\n" }
        try csv.write(toFile: self.out, atomically: true, encoding: .utf8)
        if let pairsPath = self.pairs {
            var s = "rec_id_a,rec_id_b,score,reasons\n"
            for (i, j, m) in result.matches {
                s += "\(profiles[i].id),\(profiles[j].id),\(m.score),\(m.reasons.map(\.description).joined(separator: " "))\n"
            }
            try s.write(toFile: pairsPath, atomically: true, encoding: .utf8)
        }
        print("records=\(records.count)")
        print("candidate_pairs=\(result.candidatePairs)")
        print("matched_pairs=\(result.matches.count)")
        print("profile_ms=\((t1 - t0).components.attoseconds / 1_000_000_000_000_000 + (t1 - t0).components.seconds * 1000)")
        print("cluster_ms=\((t2 - t1).components.attoseconds / 1_000_000_000_000_000 + (t2 - t1).components.seconds * 1000)")
    }
}
