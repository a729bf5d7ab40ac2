import Connectors
import Testing

@Suite struct ConnectorsModuleTests {
    @Test func moduleLinks() {
        #expect(String(describing: Connectors.self) == "Connectors")
    }
}
