// Apache WSS4J (Debian libwss4j-java, 1.6) as an independent X.509 signer, used as its
// WSSecSignature documentation shows: a Security header (mustUnderstand), a Timestamp,
// and a signature over the Body and the Timestamp with the key's certificate as a
// BinarySecurityToken (BST_DIRECT_REFERENCE), RSA-SHA256 and SHA-256 digests, exclusive
// C14N. Each response is then processed by WSSecurityEngine with the service's certificate
// as the only trusted one: its signature must verify.
//
// Usage: java Wss4jClient KEYSTORE.p12 PASSWORD ALIAS SERVICE_CERT.pem ENDPOINT REQUEST.xml...
// Prints one JSON object a request: {"status": N, "verified": true|false, "signed": [...],
//                                     "body": base64 of the response}
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.apache.ws.security.WSConstants;
import org.apache.ws.security.WSEncryptionPart;
import org.apache.ws.security.WSSConfig;
import org.apache.ws.security.WSSecurityEngine;
import org.apache.ws.security.WSSecurityEngineResult;
import org.apache.ws.security.components.crypto.Merlin;
import org.apache.ws.security.message.WSSecHeader;
import org.apache.ws.security.message.WSSecSignature;
import org.apache.ws.security.message.WSSecTimestamp;
import org.w3c.dom.Document;

public class Wss4jClient {
    static final String RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    static final String SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";

    public static void main(String[] args) throws Exception {
        String keystorePath = args[0], password = args[1], alias = args[2];
        String serviceCertPath = args[3], endpoint = args[4];
        WSSConfig.init();

        KeyStore keystore = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(keystorePath)) {
            keystore.load(in, password.toCharArray());
        }
        Merlin signing = new Merlin();
        signing.setKeyStore(keystore);

        X509Certificate serviceCert;
        try (InputStream in = new FileInputStream(serviceCertPath)) {
            serviceCert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        trusted.setCertificateEntry("service", serviceCert);
        Merlin verifying = new Merlin();
        verifying.setTrustStore(trusted);
        verifying.setKeyStore(trusted);

        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        for (int i = 5; i < args.length; i++) {
            Document doc;
            try (InputStream in = new FileInputStream(args[i])) {
                doc = factory.newDocumentBuilder().parse(in);
            }
            String soapNs = doc.getDocumentElement().getNamespaceURI();
            WSSecHeader header = new WSSecHeader();
            header.setMustUnderstand(true);
            header.insertSecurityHeader(doc);
            WSSecTimestamp timestamp = new WSSecTimestamp();
            timestamp.setTimeToLive(300);
            timestamp.build(doc, header);
            WSSecSignature signature = new WSSecSignature();
            signature.setUserInfo(alias, password);
            signature.setKeyIdentifierType(WSConstants.BST_DIRECT_REFERENCE);
            signature.setSignatureAlgorithm(RSA_SHA256);
            signature.setDigestAlgo(SHA256);
            List<WSEncryptionPart> parts = new ArrayList<>();
            parts.add(new WSEncryptionPart("Body", soapNs, ""));
            parts.add(new WSEncryptionPart("Timestamp", WSConstants.WSU_NS, ""));
            signature.setParts(parts);
            signature.build(doc, signing, header);

            byte[] request = serialize(doc);
            boolean soap12 = soapNs.equals("http://www.w3.org/2003/05/soap-envelope");
            HttpURLConnection connection = (HttpURLConnection) new URL(endpoint).openConnection();
            connection.setRequestMethod("POST");
            connection.setDoOutput(true);
            connection.setRequestProperty(
                "Content-Type", soap12 ? "application/soap+xml; charset=utf-8" : "text/xml; charset=utf-8");
            if (!soap12) connection.setRequestProperty("SOAPAction", "\"\"");
            try (OutputStream out = connection.getOutputStream()) {
                out.write(request);
            }
            int status = connection.getResponseCode();
            InputStream stream = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
            byte[] body = stream.readAllBytes();

            boolean verified = false;
            List<String> signedBy = new ArrayList<>();
            try {
                Document response = factory.newDocumentBuilder().parse(new ByteArrayInputStream(body));
                List<WSSecurityEngineResult> results =
                    new WSSecurityEngine().processSecurityHeader(response, null, null, verifying);
                if (results != null) {
                    for (WSSecurityEngineResult result : results) {
                        Object action = result.get(WSSecurityEngineResult.TAG_ACTION);
                        if (action != null && ((Integer) action) == WSConstants.SIGN) {
                            X509Certificate cert =
                                (X509Certificate) result.get(WSSecurityEngineResult.TAG_X509_CERTIFICATE);
                            verified = cert != null && cert.equals(serviceCert);
                            signedBy.add(cert == null ? "?" : cert.getSubjectX500Principal().getName());
                        }
                    }
                }
            } catch (Exception error) {
                signedBy.add("error: " + error.getMessage().replace("\"", "'"));
            }
            StringBuilder json = new StringBuilder();
            json.append("{\"status\": ").append(status).append(", \"verified\": ").append(verified);
            json.append(", \"signed\": [");
            for (int j = 0; j < signedBy.size(); j++) {
                if (j > 0) json.append(", ");
                json.append('"').append(signedBy.get(j).replace("\\", "/")).append('"');
            }
            json.append("], \"body\": \"").append(Base64.getEncoder().encodeToString(body)).append("\"}");
            System.out.println(json);
        }
    }

    static byte[] serialize(Document doc) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TransformerFactory.newInstance().newTransformer().transform(new DOMSource(doc), new StreamResult(out));
        return out.toByteArray();
    }
}
