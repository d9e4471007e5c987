// node-soap driver, used as node-soap's README shows: soap.createClientAsync(url) on the
// served WSDL with no options, BasicAuthSecurity for HTTP Basic, and then either
//   top-level   client.GreetAsync(args)   the README's first usage; node-soap binds these
//               to the WSDL's last port (/soap12) and sends SOAP 1.1 (text/xml), its default
//   PORT        client.SoapService.PORT.Greet(args, callback)   the README's
//               service.port.method usage, for the port named (SoapServiceSoap11 = /soap)
// Usage: node driver.js WSDL_URL USAGE PNG TEXT USER PASSWORD
// With SIGN_KEY and SIGN_CERT (PEM files) in the environment, every call is signed with
// WSSecurityCert instead of HTTP Basic (tests/interop/test_node_soap.py).
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const soap = require("soap");

const [wsdlUrl, usage, pngPath, textPath, user, password] = process.argv.slice(2);
const PEOPLE = [["Zoë", "Ñúñez-李", 0], ["Ada", "Lovelace", 150]];

async function fault(promise) {
  try {
    await promise;
  } catch (error) {
    // node-soap rejects with the parsed fault envelope in error.root
    const body = error.root && error.root.Envelope && error.root.Envelope.Body;
    const f = body && body.Fault;
    if (!f) throw error;
    const code = f.faultcode || (f.Code && [f.Code.Value, f.Code.Subcode && f.Code.Subcode.Value].join("."));
    const detail = f.detail || f.Detail;
    const typed = detail.ValidationFaultDetail || detail.ImageRejectedFaultDetail;
    return { code: String(code), ...typed };
  }
  throw new Error("expected a fault");
}

const asList = (x) => (x === undefined || x === null ? [] : [].concat(x));
const sha256 = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

(async () => {
  const client = await soap.createClientAsync(wsdlUrl);
  if (process.env.SIGN_KEY) {
    // WS-Security X.509 as node-soap's README shows: new WSSecurityCert(privateKey, publicKey,
    // password) with no options (RSA-SHA256, SHA-256, a Timestamp, Body and Timestamp signed)
    const key = fs.readFileSync(process.env.SIGN_KEY);
    const cert = fs.readFileSync(process.env.SIGN_CERT);
    client.setSecurity(new soap.WSSecurityCert(key, cert, ""));
  } else {
    client.setSecurity(new soap.BasicAuthSecurity(user, password));
  }
  let call;
  if (usage === "top-level") {
    // resolves to [result, rawResponse, soapHeader, rawRequest]
    call = async (op, args) => (await client[op + "Async"](args))[0];
  } else {
    const port = client.SoapService[usage];
    if (!port) throw new Error(`no port ${usage} in the WSDL`);
    call = (op, args) =>
      new Promise((resolve, reject) => port[op](args, (err, result) => (err ? reject(err) : resolve(result))));
  }
  const report = {};
  report.greet = (await call("Greet", { name: "Ada" })).GreetResult;
  // xs:dateTime arrives as a JavaScript Date: an instant, without the zone's offset.
  const t0 = (await call("GetTime", {})).GetTimeResult;
  report.time_default = { timezone: t0.timezone, utc: t0.utc.toISOString() };
  const t1 = (await call("GetTime", { timezone: "Asia/Kolkata" })).GetTimeResult;
  report.time_zone = { timezone: t1.timezone, local: t1.local.toISOString() };
  report.echo = [];
  for (const [first_name, last_name, age] of PEOPLE) {
    const p = (await call("EchoPerson", { person: { first_name, last_name, age } })).EchoPersonResult;
    // age is a tns:Age (an xs:int restriction): node-soap parses only built-in types, so it is text
    report.echo.push([p.first_name, p.last_name, Number(p.age)]);
  }
  // node-soap passes base64Binary as base64 text, both ways.
  const png = fs.readFileSync(pngPath).toString("base64");
  const r = (await call("UploadImage", { filename: "picture.png", content: png })).UploadImageResult;
  report.upload = {
    image_id: r.image_id, sha256: r.sha256, size_bytes: r.size_bytes, format: r.format, width: r.width, height: r.height,
  };
  let token;
  for (;;) {
    const args = token === undefined ? { page_size: 100 } : { page_size: 100, page_token: token };
    const page = (await call("ListImages", args)).ListImagesResult;
    const found = asList(page.images && page.images.ImageReceipt).find((i) => i.image_id === r.image_id);
    if (found) {
      report.listed = { image_id: found.image_id, sha256: found.sha256, size_bytes: found.size_bytes };
      break;
    }
    token = page.next_page_token;
    if (!token) throw new Error(`ListImages never showed ${r.image_id}`);
  }
  const image = (await call("GetImage", { image_id: r.image_id })).GetImageResult;
  const bytes = Buffer.from(image.content, "base64");
  report.image = { image_id: image.image_id, filename: image.filename, sha256: sha256(bytes), size_bytes: bytes.length };
  report.fault_validation = await fault(call("Greet", { name: " " }));
  report.fault_age = await fault(call("EchoPerson", { person: { first_name: "A", last_name: "B", age: 200 } }));
  report.fault_zone = await fault(call("GetTime", { timezone: "Mars/Olympus_Mons" }));
  const text = fs.readFileSync(textPath).toString("base64");
  report.fault_image = await fault(call("UploadImage", { filename: "n.png", content: text }));
  console.log(JSON.stringify(report));
})().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  if (error && error.body) console.error(String(error.body).slice(0, 3000));
  process.exit(1);
});
