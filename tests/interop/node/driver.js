// node-soap driver: builds its client from the committed WSDL, calls the endpoint given.
// Usage: node driver.js WSDL ENDPOINT SOAP_VERSION(1.1|1.2) PNG TEXT USER PASSWORD
"use strict";
const fs = require("fs");
const soap = require("soap");

const [wsdl, endpoint, version, pngPath, textPath, user, password] = process.argv.slice(2);
const PEOPLE = [["Zoë", "Ñúñez-李", 0], ["Ada", "Lovelace", 150]];

async function fault(promise) {
  try {
    await promise;
  } catch (error) {
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

(async () => {
  // JavaScript Dates keep no UTC offset; keep xs:dateTime as its text to see the zone's offset.
  const options = { endpoint, disableCache: true, customDeserializer: { dateTime: (text) => text } };
  if (version === "1.2") options.forceSoap12Headers = true;
  const client = await soap.createClientAsync(wsdl, options);
  client.setSecurity(new soap.BasicAuthSecurity(user, password));
  // Both ports are in the WSDL; pick the binding that matches the endpoint.
  const port = version === "1.2" ? "SoapServiceSoap12" : "SoapServiceSoap11";
  const svc = client.SoapService[port];
  const call = (op, args) =>
    new Promise((resolve, reject) =>
      svc[op](args, (err, result) => (err ? reject(err) : resolve(result)), { }, {})
    );
  const report = {};
  report.greet = (await call("Greet", { name: "Ada" })).GreetResult;
  const t0 = (await call("GetTime", {})).GetTimeResult;
  report.time_default = { timezone: t0.timezone, utc: String(t0.utc) };
  const t1 = (await call("GetTime", { timezone: "Asia/Kolkata" })).GetTimeResult;
  report.time_zone = { timezone: t1.timezone, local: String(t1.local) };
  report.echo = [];
  for (const [first_name, last_name, age] of PEOPLE) {
    const p = (await call("EchoPerson", { person: { first_name, last_name, age } })).EchoPersonResult;
    report.echo.push([p.first_name, p.last_name, Number(p.age)]);
  }
  // node-soap passes base64Binary as base64 text.
  const png = fs.readFileSync(pngPath).toString("base64");
  const r = (await call("UploadImage", { filename: "picture.png", content: png })).UploadImageResult;
  report.upload = { sha256: r.sha256, size_bytes: Number(r.size_bytes), format: r.format, width: Number(r.width), height: Number(r.height) };
  report.fault_validation = await fault(call("Greet", { name: " " }));
  report.fault_age = await fault(call("EchoPerson", { person: { first_name: "A", last_name: "B", age: 200 } }));
  report.fault_zone = await fault(call("GetTime", { timezone: "Mars/Olympus_Mons" }));
  const text = fs.readFileSync(textPath).toString("base64");
  report.fault_image = await fault(call("UploadImage", { filename: "n.png", content: text }));
  console.log(JSON.stringify(report));
})().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
