// Checks that an ontology document is in the OWL 2 DL profile, with the OWL API bundled in
// owlready2's HermiT.jar. Used by tests/test_knowledge.py (compiled into a temp dir when javac exists).
// Usage: java -cp HermiT.jar:. DLProfileCheck file.owl   -> prints "in profile" or one violation a line.
import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public class DLProfileCheck {
    public static void main(String[] args) throws Exception {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntology ontology = manager.loadOntologyFromOntologyDocument(new File(args[0]));
        OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
        if (report.isInProfile()) {
            System.out.println("in profile");
        }
        for (OWLProfileViolation violation : report.getViolations()) {
            System.out.println(violation);
        }
    }
}
