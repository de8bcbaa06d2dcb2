// The templates the service ships, compiled into the binary so that it runs from any folder.
// Generated from templates/*.mustache by `bash templates/embed.sh`; a test checks that the two agree.

/// The shipped Mustache templates by name (the file name without `.mustache`).
enum BuiltInTemplates {
    static let all: [String: String] = [
        "landing": #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta http-equiv="refresh" content="1;url={{destination}}">
<title>Opening the shop…</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f6f5; color: #1d2b24; }
  main { text-align: center; padding: 2rem; }
  a.button { display: inline-block; margin-top: 1rem; padding: .8rem 1.6rem; border-radius: .5rem; background: #1f8f5f; color: #fff; text-decoration: none; font-weight: 600; }
</style>
</head>
<body>
<main>
  <p>Taking you to the shop…</p>
  <a class="button" href="{{destination}}">Continue</a>
</main>
</body>
</html>

"""#,
    ]
}
