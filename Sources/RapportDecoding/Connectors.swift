import RapportCore
import RapportSupport
/// Decoders from each inbound channel's payload to RapportCore's ``LeadSubmission``, and readers for
/// import files. Declarative field mappings for each channel live in the repository's `connectors/` folder.
public enum Connectors {}
