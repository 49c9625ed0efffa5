// The local /chat page: Microsoft's Web Chat on the bot's local Direct Line (see directline.py).
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('btassist-chat').textContent);
  var directLine = window.WebChat.createDirectLine({
    domain: window.location.origin + config.domain,
    token: config.token,
    webSocket: false, // polling: the local Direct Line has no streaming endpoint
    pollingInterval: config.pollingInterval
  });
  window.WebChat.renderWebChat(
    {
      directLine: directLine,
      userID: config.userID,
      username: config.username,
      locale: config.locale,
      styleOptions: {
        accent: '#6264a7', // Teams' purple, so cards look as people will see them there
        botAvatarInitials: 'BT',
        userAvatarInitials: config.initials,
        bubbleBorderRadius: 6,
        bubbleFromUserBackground: '#e8ebfa',
        bubbleFromUserBorderRadius: 6,
        hideUploadButton: true,
        sendBoxTextWrap: true
      }
    },
    document.getElementById('webchat')
  );
  document.querySelector('#webchat > *') && document.querySelector('#webchat > *').focus();
})();
